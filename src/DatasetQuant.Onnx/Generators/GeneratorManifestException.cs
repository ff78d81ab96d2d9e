namespace DatasetQuant.Onnx.Generators;

/// <summary>A generator manifest is missing, malformed, or contradicts its model. Names the file and the field.</summary>
public sealed class GeneratorManifestException : Exception
{
    public GeneratorManifestException(string file, string field, string message)
        : base($"{file}: field '{field}' {message}.")
    {
        File = file;
        Field = field;
    }

    public string File { get; }

    public string Field { get; }
}
