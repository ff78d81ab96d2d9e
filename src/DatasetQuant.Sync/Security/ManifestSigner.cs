using System.Security.Cryptography;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Security;

/// <summary>Signs manifests with the coordinator's ECDSA P-256 private key (SHA-256, IEEE P1363 r‖s).</summary>
public sealed class ManifestSigner : IDisposable
{
    private readonly ECDsa _key;

    public ManifestSigner(ECDsa privateKey)
    {
        _key = privateKey;
        KeyId = SigningKeyPem.KeyId(privateKey);
    }

    public string KeyId { get; }

    public static ManifestSigner FromPemFile(string privateKeyPath) => new(SigningKeyPem.LoadPrivateKey(privateKeyPath));

    public SignedManifestMessage Sign(DatasetManifest manifest)
    {
        var invalid = manifest.Validate();
        if (invalid is not null)
        {
            throw new ArgumentException($"manifest of dataset '{manifest.Dataset}' cannot be signed: {invalid}", nameof(manifest));
        }

        var signature = _key.SignData(ManifestCanonicalForm.GetBytes(manifest), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new SignedManifestMessage { Manifest = manifest, KeyId = KeyId, Signature = Convert.ToBase64String(signature) };
    }

    public void Dispose() => _key.Dispose();
}
