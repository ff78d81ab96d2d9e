using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Sync.Tests;

public sealed class StorageTests
{
    private static readonly byte[] Sha = new byte[32];

    [Fact]
    public void The_chunk_journal_resumes_its_records_and_a_torn_record_costs_only_that_chunk()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.chunks");
        using (var journal = ChunkJournal.Open(path, 1, 100_000, 16_384, Sha, out var resumed))
        {
            Assert.False(resumed);
            for (var i = 0; i < 5; i++)
            {
                journal.Record(i, 0xC0FFEE00u + (uint)i);
            }
        }

        using (var journal = ChunkJournal.Open(path, 1, 100_000, 16_384, Sha, out var resumed))
        {
            Assert.True(resumed);
            Assert.Equal(5, journal.Bitmap.SetCount);
            Assert.Equal(0xC0FFEE03u, journal.CrcOf(3));
        }

        // Tear record 2 (64-byte header, 8 bytes a record): its seal no longer matches, the others stay.
        var bytes = File.ReadAllBytes(path);
        bytes[64 + (2 * 8) + 1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        using (var journal = ChunkJournal.Open(path, 1, 100_000, 16_384, Sha, out var resumed))
        {
            Assert.True(resumed);
            Assert.Equal(4, journal.Bitmap.SetCount);
            Assert.False(journal.Bitmap[2]);
        }

        // Records of version 1 do not seal under a version 2 header, even when only the header were rewritten.
        var header2 = File.ReadAllBytes(path);
        using (ChunkJournal.Open(dir.File("v2.chunks"), 2, 100_000, 16_384, Sha, out _))
        {
        }

        File.ReadAllBytes(dir.File("v2.chunks")).AsSpan(0, 64).CopyTo(header2);
        File.WriteAllBytes(path, header2);
        using (var journal = ChunkJournal.Open(path, 2, 100_000, 16_384, Sha, out var resumed))
        {
            Assert.True(resumed);
            Assert.Equal(0, journal.Bitmap.SetCount);
        }

        // Another manifest version starts afresh.
        using (var journal = ChunkJournal.Open(path, 3, 100_000, 16_384, Sha, out var resumed))
        {
            Assert.False(resumed);
            Assert.Equal(0, journal.Bitmap.SetCount);
        }
    }

    [Fact]
    public void Key_files_load_with_errors_that_name_the_file_and_the_fault()
    {
        using var dir = new TempDirectory();
        using (var key = SigningKeyPem.Generate())
        {
            SigningKeyPem.Save(key, dir.File("k.pem"), dir.File("k.pub.pem"));
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("k.pem")));
        }

        using (var loaded = SigningKeyPem.LoadPrivateKey(dir.File("k.pem")))
        using (var pub = SigningKeyPem.LoadPublicKey(dir.File("k.pub.pem")))
        {
            Assert.Equal(SigningKeyPem.KeyId(loaded), SigningKeyPem.KeyId(pub));
        }

        Assert.Contains("does not exist", Assert.Throws<SigningKeyException>(() => SigningKeyPem.LoadPublicKey(dir.File("missing.pem"))).Message);
        Assert.Contains("holds no private key", Assert.Throws<SigningKeyException>(() => SigningKeyPem.LoadPrivateKey(dir.File("k.pub.pem"))).Message);
        File.WriteAllText(dir.File("junk.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        Assert.Contains("junk.pem", Assert.Throws<SigningKeyException>(() => SigningKeyPem.LoadPublicKey(dir.File("junk.pem"))).Message);
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            File.WriteAllText(dir.File("rsa.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        }

        Assert.Contains("rsa.pem", Assert.Throws<SigningKeyException>(() => SigningKeyPem.LoadPublicKey(dir.File("rsa.pem"))).Message);
    }

    [Fact]
    public void Options_validation_names_each_wrong_setting()
    {
        var shape = new DeviceSyncOptionsValidator().Validate(null, new DeviceSyncOptions
        {
            BrokerUrl = "mqtts://broker:8883",
            Fleet = "a/b",
            DeviceId = "",
            DataDirectory = "",
            CoordinatorKeyPath = "",
            FlashQuotaBytes = -1,
            CertFile = "/nonexistent.crt",
            MaxChunksPerPull = 0,
            FirstBudgetWait = TimeSpan.FromSeconds(-1),
        });

        Assert.Equal(
            [
                "Sync:Fleet 'a/b' must be 1..64 characters of A-Z a-z 0-9 . _ - (not starting with '.').",
                "Sync:DeviceId is required.",
                "Sync:DataDirectory is required (for example /var/lib/dq-agent).",
                "Sync:CoordinatorKeyPath is required: the PEM public key that dataset manifests are signed with.",
                "Sync:FlashQuotaBytes is -1; give at least 1048576 (1 MiB), or leave it out for no limit.",
                "Sync:CaFile is required with an mqtts:// broker (mutual TLS: the CA, this device's certificate and key).",
                "Sync:KeyFile is required with an mqtts:// broker (mutual TLS: the CA, this device's certificate and key).",
                "Sync:MaxQueuedMessages and Sync:MaxChunksPerPull must be at least 1.",
                "Sync:FirstBudgetWait is -00:00:01; give 0 (no wait) to 10 minutes.",
            ],
            shape.Failures);
        Assert.Equal(
            ["Sync:BrokerUrl 'http://x' has scheme 'http'; use mqtt:// or mqtts://."],
            new DeviceSyncOptionsValidator().Validate(null, new DeviceSyncOptions
            {
                BrokerUrl = "http://x", Fleet = "lab", DeviceId = "pi-1", DataDirectory = "/d", CoordinatorKeyPath = "/k",
            }).Failures);

        // Whether the named files exist is the start-time check's question, not the shape's.
        var files = new DeviceSyncFilesValidator().Validate(null, new DeviceSyncOptions
        {
            CoordinatorKeyPath = "/nonexistent.pem",
            CertFile = typeof(StorageTests).Assembly.Location,
        });
        Assert.Equal(["Sync:CoordinatorKeyPath: file '/nonexistent.pem' does not exist or cannot be read."], files.Failures);

        var good = new DeviceSyncOptions
        {
            BrokerUrl = "mqtt://127.0.0.1:1883",
            Fleet = "lab",
            DeviceId = "pi-1",
            DataDirectory = "/tmp/x",
            CoordinatorKeyPath = typeof(StorageTests).Assembly.Location,
        };
        Assert.True(new DeviceSyncOptionsValidator().Validate(null, good).Succeeded);
        Assert.True(new DeviceSyncFilesValidator().Validate(null, good).Succeeded);
    }
}
