using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;

namespace DatasetQuant.Onnx.Tests;

/// <summary>SequenceProto and OptionalProto files: ONNX's own, and hand-built broken ones.</summary>
public sealed class ValueReaderTests
{
    private static string DataSet(string test, string file) =>
        Path.Combine(TestData.OnnxTestDataDirectory, "node", test, "test_data_set_0", file);

    [Fact]
    public void Reads_onnx_sequence_and_optional_files()
    {
        var sequence = Assert.IsType<OnnxSequence>(OnnxValueReader.ReadFile(DataSet("test_loop16_seq_none", "output_0.pb"), OnnxValueKind.Sequence));
        Assert.Equal("seq_res", sequence.Name);
        Assert.Equal(OnnxElementType.Float, sequence.ElementType);
        Assert.Equal([0f], sequence.Elements[0].ToFloatArray());
        Assert.Equal([1f], sequence.Elements[1].ToFloatArray());
        Assert.Equal([1f, 2f], sequence.Elements[2].ToFloatArray());

        var empty = Assert.IsType<OnnxSequence>(OnnxValueReader.ReadFile(DataSet("test_loop13_seq", "input_2.pb"), OnnxValueKind.Sequence));
        Assert.Equal(0, empty.Count);

        var optional = Assert.IsType<OnnxOptional>(OnnxValueReader.ReadFile(DataSet("test_optional_get_element_sequence", "input_0.pb"), OnnxValueKind.Optional));
        var inner = Assert.IsType<OnnxSequence>(optional.Value);
        Assert.Equal([1, 2, 3, 4], inner.Elements[0].AsSpan<int>().ToArray());

        var none = Assert.IsType<OnnxOptional>(OnnxValueReader.ReadFile(DataSet("test_optional_has_element_empty", "input_0.pb"), OnnxValueKind.Optional));
        Assert.False(none.HasValue);
        Assert.Equal("optional_input", none.Name);
    }

    [Fact]
    public void A_truncated_sequence_file_names_the_file_and_the_message()
    {
        var bytes = File.ReadAllBytes(DataSet("test_loop16_seq_none", "output_0.pb"));

        var error = Assert.Throws<OnnxFormatException>(() => OnnxValueReader.Read(bytes.AsSpan(0, bytes.Length - 5), OnnxValueKind.Sequence, "cut.pb"));

        Assert.Contains("cut.pb", error.Message, StringComparison.Ordinal);
        Assert.Contains("SequenceProto", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sequence_mixing_element_types_is_refused()
    {
        var bytes = Sequence(OnnxTensor.FromFloats("a", [1f], 1), OnnxTensor.FromInt64s("b", [1], 1));

        var error = Assert.Throws<OnnxFormatException>(() => OnnxValueReader.ReadSequence(bytes, "mixed.pb"));

        Assert.Contains("mixed.pb", error.Message, StringComparison.Ordinal);
        Assert.Contains("mixes float32 and int64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sequence_of_sequences_is_refused_as_onnx_runtime_cannot_hold_it()
    {
        byte[] nested = [0x0a, 0x01, (byte)'s', 0x10, 0x03, 0x2a, 0x02, 0x10, 0x01]; // name "s", elem_type SEQUENCE, one empty sequence

        var error = Assert.Throws<OnnxFormatException>(() => OnnxValueReader.ReadSequence(nested, "nested.pb"));

        Assert.Contains("tensors only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_optional_whose_elem_type_disagrees_with_its_value_is_refused()
    {
        var tensor = OnnxModelWriter.WriteTensor(OnnxTensor.FromFloats("t", [1f], 1));
        byte[] bytes = [0x10, 0x03, 0x1a, (byte)tensor.Length, .. tensor]; // elem_type SEQUENCE, but a tensor_value

        var error = Assert.Throws<OnnxFormatException>(() => OnnxValueReader.ReadOptional(bytes, "opt.pb"));

        Assert.Contains("opt.pb", error.Message, StringComparison.Ordinal);
        Assert.Contains("elem_type 3", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Sequence(params OnnxTensor[] tensors)
    {
        List<byte> bytes = [0x10, 0x01];
        foreach (var t in tensors)
        {
            var body = OnnxModelWriter.WriteTensor(t);
            bytes.AddRange([0x1a, (byte)body.Length, .. body]);
        }

        return [.. bytes];
    }
}
