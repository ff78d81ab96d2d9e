using System.Security.Cryptography;

namespace DatasetQuant.Agent.Tests;

internal static class TestKeys
{
    /// <summary>Writes a fresh ECDSA P-256 public key PEM, as the coordinator's pinned key, and returns its path.</summary>
    public static string WriteCoordinatorKey(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = Path.Combine(directory, "coordinator.pub.pem");
        File.WriteAllText(path, key.ExportSubjectPublicKeyInfoPem());
        return path;
    }
}
