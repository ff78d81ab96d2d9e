namespace DatasetQuant.Onnx.Model;

/// <summary>Field numbers from onnx.proto (ONNX 1.x), one nested class per message.</summary>
internal static class OnnxProtoFields
{
    internal static class Model
    {
        public const int IrVersion = 1;
        public const int ProducerName = 2;
        public const int ProducerVersion = 3;
        public const int Domain = 4;
        public const int ModelVersion = 5;
        public const int DocString = 6;
        public const int Graph = 7;
        public const int OpsetImport = 8;
        public const int MetadataProps = 14;
    }

    internal static class OperatorSet
    {
        public const int Domain = 1;
        public const int Version = 2;
    }

    internal static class StringPair
    {
        public const int Key = 1;
        public const int Value = 2;
    }

    internal static class Graph
    {
        public const int Node = 1;
        public const int Name = 2;
        public const int Initializer = 5;
        public const int DocString = 10;
        public const int Input = 11;
        public const int Output = 12;
        public const int ValueInfo = 13;
    }

    internal static class Node
    {
        public const int Input = 1;
        public const int Output = 2;
        public const int Name = 3;
        public const int OpType = 4;
        public const int Attribute = 5;
        public const int DocString = 6;
        public const int Domain = 7;
    }

    internal static class Attribute
    {
        public const int Name = 1;
        public const int F = 2;
        public const int I = 3;
        public const int S = 4;
        public const int T = 5;
        public const int G = 6;
        public const int Floats = 7;
        public const int Ints = 8;
        public const int Strings = 9;
        public const int Type = 20;
    }

    internal static class Tensor
    {
        public const int Dims = 1;
        public const int DataType = 2;
        public const int Segment = 3;
        public const int FloatData = 4;
        public const int Int32Data = 5;
        public const int StringData = 6;
        public const int Int64Data = 7;
        public const int Name = 8;
        public const int RawData = 9;
        public const int DoubleData = 10;
        public const int UInt64Data = 11;
        public const int ExternalData = 13;
        public const int DataLocation = 14;
    }

    /// <summary>SequenceProto; <see cref="Optional"/> numbers its single-value fields the same way.</summary>
    internal static class Sequence
    {
        public const int Name = 1;
        public const int ElemType = 2;
        public const int TensorValues = 3;
        public const int SparseTensorValues = 4;
        public const int SequenceValues = 5;
        public const int MapValues = 6;
        public const int OptionalValues = 7;
    }

    internal static class Optional
    {
        public const int Name = 1;
        public const int ElemType = 2;
        public const int TensorValue = 3;
        public const int SparseTensorValue = 4;
        public const int SequenceValue = 5;
        public const int MapValue = 6;
        public const int OptionalValue = 7;
    }

    /// <summary>SequenceProto.DataType and OptionalProto.DataType (the same numbers).</summary>
    internal static class ContainerElement
    {
        public const int Undefined = 0;
        public const int Tensor = 1;
        public const int SparseTensor = 2;
        public const int Sequence = 3;
        public const int Map = 4;
        public const int Optional = 5;
    }

    internal static class ValueInfo
    {
        public const int Name = 1;
        public const int Type = 2;
    }

    internal static class TypeProto
    {
        public const int TensorType = 1;
        public const int SequenceType = 4;
    }

    internal static class SequenceType
    {
        public const int ElemType = 1;
    }

    internal static class TensorType
    {
        public const int ElemType = 1;
        public const int Shape = 2;
    }

    internal static class Shape
    {
        public const int Dim = 1;
    }

    internal static class Dimension
    {
        public const int Value = 1;
        public const int Param = 2;
    }
}
