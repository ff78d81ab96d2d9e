using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>A mosquitto listener that wants a client certificate and takes the certificate's CN as the username.</summary>
public sealed class TlsTests
{
    private static async Task<MosquittoBroker> StartTlsBrokerAsync(TestCertificates certificates)
    {
        // The ACL proves the broker saw the client's identity: only dev-42 may use devices/dev-42/#.
        var acl = certificates.File("acl");
        await File.WriteAllTextAsync(acl, "user dev-42\ntopic readwrite devices/dev-42/#\n");
        File.SetUnixFileMode(acl, TestCertificates.ReadableByAll);
        return await MosquittoBroker.StartAsync($"""
            cafile {certificates.CaFile}
            certfile {certificates.ServerCertificate}
            keyfile {certificates.ServerKey}
            require_certificate true
            use_identity_as_username true
            acl_file {acl}
            """);
    }

    private static MqttConnectionOptions TlsOptions(MosquittoBroker broker, TestCertificates certificates, bool withClientCertificate = true) => new()
    {
        BrokerUri = $"mqtts://127.0.0.1:{broker.Port}",
        TlsCaFile = certificates.CaFile,
        TlsCertificateFile = withClientCertificate ? certificates.ClientCertificate : null,
        TlsKeyFile = withClientCertificate ? certificates.ClientKey : null,
    };

    [Fact]
    public async Task Client_certificate_connects_and_its_identity_is_the_username()
    {
        using var certificates = await TestCertificates.CreateAsync("dev-42");
        await using var broker = await StartTlsBrokerAsync(certificates);
        await using var device = await MqttConnection.ConnectAsync(TlsOptions(broker, certificates));

        await device.SubscribeAsync("devices/dev-42/#", MqttQos.AtLeastOnce);
        await device.PublishAsync(new MqttMessage("devices/dev-42/state", "online"u8.ToArray()) { ContentType = "text/plain" });
        var received = await device.ReceiveAsync();
        Assert.Equal("online"u8.ToArray(), received.Payload.ToArray());

        // Another device's topic: the ACL for username dev-42 refuses it, and PUBACK says so.
        var error = await Assert.ThrowsAsync<MqttException>(() => device.PublishAsync(new MqttMessage("devices/dev-43/state", "x"u8.ToArray())).AsTask());
        Assert.Contains("devices/dev-43/state", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x87", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_connection_is_refused_with_a_clear_error()
    {
        using var certificates = await TestCertificates.CreateAsync("dev-42");
        await using var broker = await StartTlsBrokerAsync(certificates);
        var error = await Assert.ThrowsAsync<MqttException>(() =>
            MqttConnection.ConnectAsync(TlsOptions(broker, certificates, withClientCertificate: false)));
        Assert.Contains($"mqtts://127.0.0.1:{broker.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("TlsCertificateFile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_options_name_a_missing_file()
    {
        var error = Assert.Throws<ArgumentException>(() => new MqttConnectionOptions
        {
            BrokerUri = "mqtts://127.0.0.1:8883",
            TlsCaFile = "/nonexistent/ca.crt",
        }.Validate());
        Assert.Contains("TlsCaFile", error.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/ca.crt", error.Message, StringComparison.Ordinal);
    }
}
