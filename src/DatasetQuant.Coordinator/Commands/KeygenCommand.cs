using System.CommandLine;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>
/// <c>dq-coordinator keygen --out KEY.pem</c>: a new ECDSA P-256 signing key, private half to KEY.pem (mode 0600),
/// public half to KEY.pub.pem for the devices to pin.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "Where to write the private key; the public key goes beside it as <name>.pub.pem.",
            HelpName = "KEY.pem",
            Required = true,
        };
        output.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>();
            var folder = string.IsNullOrWhiteSpace(path) ? null : Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is null || !Directory.Exists(folder))
            {
                result.AddError($"--out: the folder of '{path}' does not exist.");
            }
        });
        var force = new Option<bool>("--force") { Description = "Replace existing key files (devices pinned to the old key will refuse new manifests)." };
        var command = new Command("keygen", "Create the coordinator's manifest signing key (ECDSA P-256).") { output, force };
        command.SetAction(parseResult =>
        {
            var privatePath = Path.GetFullPath(parseResult.GetValue(output)!);
            var publicPath = PublicKeyPath(privatePath);
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            if (!parseResult.GetValue(force))
            {
                foreach (var existing in new[] { privatePath, publicPath }.Where(File.Exists))
                {
                    stderr.WriteLine($"error: '{existing}' exists; pass --force to replace it.");
                    return ExitCodes.Failed;
                }
            }

            try
            {
                using var key = SigningKeyPem.Generate();
                SigningKeyPem.Save(key, privatePath, publicPath);
                stdout.WriteLine($"private key: {privatePath} (mode 0600)");
                stdout.WriteLine($"public key:  {publicPath} (give this to every device: dq-agent --coordinator-key)");
                stdout.WriteLine($"key id:      {SigningKeyPem.KeyId(key)}");
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"error: cannot write the key files: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>KEY.pem → KEY.pub.pem; a name without .pem gets .pub.pem appended.</summary>
    public static string PublicKeyPath(string privateKeyPath) =>
        privateKeyPath.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)
            ? privateKeyPath[..^4] + ".pub.pem"
            : privateKeyPath + ".pub.pem";
}
