using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;

namespace DatasetQuant.Onnx.Tests;

/// <summary>Sequence and optional values through the real ONNX Runtime, on models from ONNX's own node tests.</summary>
public sealed class SequenceAndOptionalTests
{
    private static string NodeModel(string test) => Path.Combine(TestData.OnnxTestDataDirectory, "node", test, "model.onnx");

    [Fact]
    public void Metadata_describes_sequences_and_optionals_down_to_their_tensors()
    {
        using var insert = OnnxSession.Load(NodeModel("test_sequence_insert_at_back"));
        var sequence = insert.Input("sequence");
        Assert.Equal(OnnxValueKind.Sequence, sequence.Kind);
        Assert.Equal(OnnxValueKind.Tensor, sequence.Contained!.Kind);
        Assert.Equal(OnnxElementType.Int64, sequence.ElementType);

        using var ifOpt = OnnxSession.Load(NodeModel("test_if_opt"));
        var output = Assert.Single(ifOpt.Outputs);
        Assert.Equal(OnnxValueKind.Optional, output.Kind);
        Assert.Equal(OnnxValueKind.Sequence, output.Contained!.Kind);
        Assert.Equal(OnnxElementType.Float, output.Contained.Contained!.ElementType);
        Assert.Equal("sequence: optional(seq(float32[5]))", output.ToString());
    }

    [Fact]
    public void SequenceInsert_takes_a_sequence_and_returns_the_longer_one()
    {
        using var session = OnnxSession.Load(NodeModel("test_sequence_insert_at_back"));
        var input = new OnnxSequence("sequence", OnnxElementType.Int64,
        [
            OnnxTensor.FromInt64s("a", [1, 2, 3], 3),
            OnnxTensor.FromInt64s("b", [4, 5, 6], 3),
        ]);

        var result = session.RunValues([input, OnnxTensor.FromInt64s("tensor", [7, 8, 9], 3)]);

        var output = Assert.IsType<OnnxSequence>(Assert.Single(result));
        Assert.Equal("output_sequence", output.Name);
        Assert.Equal(3, output.Count);
        Assert.Equal([1L, 2L, 3L], output.Elements[0].AsSpan<long>().ToArray());
        Assert.Equal([4L, 5L, 6L], output.Elements[1].AsSpan<long>().ToArray());
        Assert.Equal([7L, 8L, 9L], output.Elements[2].AsSpan<long>().ToArray());
    }

    [Fact]
    public void An_empty_sequence_goes_in_and_comes_back_empty_with_its_element_type()
    {
        using var session = OnnxSession.Load(NodeModel("test_identity_sequence"));

        var result = session.RunValues([new OnnxSequence("x", OnnxElementType.Float, [])]);

        var output = Assert.IsType<OnnxSequence>(Assert.Single(result));
        Assert.Equal(0, output.Count);
        Assert.Equal(OnnxElementType.Float, output.ElementType);
    }

    [Fact]
    public void Identity_keeps_every_element_of_a_sequence_whatever_its_shape()
    {
        using var session = OnnxSession.Load(NodeModel("test_identity_sequence"));
        var input = new OnnxSequence("x", OnnxElementType.Float,
        [
            OnnxTensor.FromFloats("a", [1f, 2f, 3f, 4f], 2, 2),
            OnnxTensor.FromFloats("b", [5f], 1),
        ]);

        var output = Assert.IsType<OnnxSequence>(Assert.Single(session.RunValues([input])));

        Assert.Equal([2L, 2L], output.Elements[0].Shape);
        Assert.Equal([1f, 2f, 3f, 4f], output.Elements[0].ToFloatArray());
        Assert.Equal([1L], output.Elements[1].Shape);
        Assert.Equal([5f], output.Elements[1].ToFloatArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OptionalHasElement_sees_a_present_value_and_a_none(bool present)
    {
        using var session = OnnxSession.Load(NodeModel("test_optional_has_element_empty"));
        var input = present
            ? new OnnxOptional("optional_input", new OnnxTensor("optional_input", OnnxElementType.Int32, [2], new byte[8]))
            : OnnxOptional.None("optional_input");

        var output = Assert.IsType<OnnxTensor>(Assert.Single(session.RunValues([input])));

        Assert.Equal(OnnxElementType.Bool, output.ElementType);
        Assert.Equal(present ? (byte)1 : (byte)0, output.Data[0]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_optional_output_is_read_as_present_or_none(bool condition)
    {
        // If(cond) returns an empty Optional on the then-branch and Optional(SequenceConstruct([1..5])) on the else-branch.
        using var session = OnnxSession.Load(NodeModel("test_if_opt"));
        var cond = new OnnxTensor("cond", OnnxElementType.Bool, [], [condition ? (byte)1 : (byte)0]);

        var output = Assert.IsType<OnnxOptional>(Assert.Single(session.RunValues([cond])));

        Assert.Equal(!condition, output.HasValue);
        if (!condition)
        {
            var sequence = Assert.IsType<OnnxSequence>(output.Value);
            Assert.Equal([1f, 2f, 3f, 4f, 5f], Assert.Single(sequence.Elements).ToFloatArray());
        }
    }

    [Fact]
    public void A_tensor_given_for_a_sequence_input_is_refused_naming_the_input()
    {
        using var session = OnnxSession.Load(NodeModel("test_identity_sequence"));

        var error = Assert.Throws<ArgumentException>(() => session.RunValues([OnnxTensor.FromFloats("x", [1f], 1)]));

        Assert.Contains("'x: seq(float32", error.Message, StringComparison.Ordinal);
        Assert.Contains("tensor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tensor_only_Run_refuses_a_sequence_output_and_points_to_RunValues()
    {
        using var session = OnnxSession.Load(NodeModel("test_if_opt"));
        var cond = new OnnxTensor("cond", OnnxElementType.Bool, [], [1]);

        var error = Assert.Throws<NotSupportedException>(() => session.Run([cond]));

        Assert.Contains("RunValues", error.Message, StringComparison.Ordinal);
    }
}
