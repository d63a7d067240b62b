using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>Self-signed server certificates made in the test, and client callbacks that trust exactly one of them.</summary>
internal static class TestCertificates
{
    /// <summary>
    /// A self-signed ECDSA P-256 server certificate for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>, valid from
    /// a day ago to a day ahead, with its private key. Dispose it when done.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned(string subjectName = "localhost")
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subjectName}", key, HashAlgorithmName.SHA256);

        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(subjectName);
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));

        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        // Through PKCS#12, so that the key is one every TLS stack on every OS can use (an ephemeral key is not on Windows).
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>
    /// A client validation callback that accepts <paramref name="trusted"/> and nothing else (pinning), whatever the
    /// system trust says: for <c>SslClientAuthenticationOptions.RemoteCertificateValidationCallback</c>,
    /// <c>ClientWebSocketOptions.RemoteCertificateValidationCallback</c> and the like.
    /// </summary>
    public static RemoteCertificateValidationCallback Trust(X509Certificate2 trusted)
    {
        byte[] expected = trusted.RawData;
        return (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(expected);
    }

    /// <summary>An <see cref="HttpMessageHandler"/> whose TLS trusts <paramref name="trusted"/> only; HTTP/1.1 and HTTP/2.</summary>
    public static SocketsHttpHandler HandlerTrusting(X509Certificate2 trusted) =>
        new() { SslOptions = { RemoteCertificateValidationCallback = Trust(trusted) } };
}
