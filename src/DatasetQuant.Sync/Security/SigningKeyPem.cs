using System.Security.Cryptography;
using DatasetQuant.Sync.IO;

namespace DatasetQuant.Sync.Security;

/// <summary>
/// ECDSA P-256 keys as PEM files: the coordinator's private key (PKCS#8, written with mode 0600) and the public key
/// (SubjectPublicKeyInfo) that every device pins. Loading names the file and what is wrong with it.
/// </summary>
public static class SigningKeyPem
{
    public static ECDsa Generate() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Writes <paramref name="privateKeyPath"/> and, beside it, <paramref name="publicKeyPath"/>, each atomically.</summary>
    public static void Save(ECDsa key, string privateKeyPath, string publicKeyPath)
    {
        DurableFile.WriteAllText(privateKeyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        DurableFile.WriteAllText(publicKeyPath, key.ExportSubjectPublicKeyInfoPem(), null);
    }

    public static ECDsa LoadPrivateKey(string path) => Load(path, requirePrivate: true);

    public static ECDsa LoadPublicKey(string path) => Load(path, requirePrivate: false);

    /// <summary>First 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo, lower-case hex.</summary>
    public static string KeyId(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 8));

    private static ECDsa Load(string path, bool requirePrivate)
    {
        string pem;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new SigningKeyException($"key file '{path}' does not exist");
            }

            if (info.Length > 64 * 1024)
            {
                throw new SigningKeyException($"key file '{path}' is {info.Length} bytes: too large for a PEM key");
            }

            pem = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new SigningKeyException($"key file '{path}' cannot be read: {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SigningKeyException($"key file '{path}' cannot be read: {ex.Message}", ex);
        }

        if (requirePrivate && !pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new SigningKeyException($"key file '{path}' holds no private key (expected a PKCS#8 'PRIVATE KEY' PEM block)");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new SigningKeyException($"key file '{path}' is not an ECDSA PEM key: {ex.Message}", ex);
        }

        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new SigningKeyException($"key file '{path}' is not a P-256 key");
        }

        return key;
    }
}

/// <summary>A key file is missing, unreadable or not an ECDSA P-256 PEM key.</summary>
public sealed class SigningKeyException : Exception
{
    public SigningKeyException(string message)
        : base(message)
    {
    }

    public SigningKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
