using System.Security.Cryptography;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Security;

/// <summary>Checks a manifest's signature against the pinned coordinator public key.</summary>
public sealed class ManifestVerifier : IDisposable
{
    private const int P1363SignatureLength = 64;
    private readonly ECDsa _publicKey;

    public ManifestVerifier(ECDsa publicKey)
    {
        _publicKey = publicKey;
        KeyId = SigningKeyPem.KeyId(publicKey);
    }

    public string KeyId { get; }

    public static ManifestVerifier FromPemFile(string publicKeyPath) => new(SigningKeyPem.LoadPublicKey(publicKeyPath));

    /// <summary>True when the signature is the pinned key's over the manifest's canonical form; otherwise why not.</summary>
    public bool TryVerify(SignedManifestMessage message, out string error)
    {
        Span<byte> signature = stackalloc byte[P1363SignatureLength];
        if (!Convert.TryFromBase64String(message.Signature, signature, out var length) || length != P1363SignatureLength)
        {
            error = $"signature is not {P1363SignatureLength} bytes of base64 (IEEE P1363 r||s)";
            return false;
        }

        if (!_publicKey.VerifyData(ManifestCanonicalForm.GetBytes(message.Manifest), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            error = message.KeyId == KeyId
                ? "signature does not match the manifest (tampered manifest or signature)"
                : $"signature does not verify with the pinned key {KeyId} (manifest names key '{message.KeyId}')";
            return false;
        }

        error = "";
        return true;
    }

    public void Dispose() => _publicKey.Dispose();
}
