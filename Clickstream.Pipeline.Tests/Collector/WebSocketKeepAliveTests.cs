using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Clickstream.Collector;
using Clickstream.Collector.WebSockets;
using static Clickstream.Pipeline.Tests.Collector.CollectorTestKit;

namespace Clickstream.Pipeline.Tests.Collector;

/// <summary>
/// Server pings. .NET sends real Ping frames only with a keep-alive timeout set (with an interval alone it sends
/// unsolicited Pongs), so the accept context is checked, and a raw client shows the frames on the wire.
/// </summary>
[CancelAfter(30_000)]
public class WebSocketKeepAliveTests
{
    [Test]
    public void AcceptContext_pings_after_the_interval_and_waits_the_pong_timeout()
    {
        var options = new CollectorOptions { PingInterval = TimeSpan.FromSeconds(7), PongTimeout = TimeSpan.FromSeconds(11) };

        var context = WebSocketEventsHandler.AcceptContext(CollectorSettings.From(options));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(context.KeepAliveInterval, Is.EqualTo(TimeSpan.FromSeconds(7)));

            // A finite timeout is what makes .NET send Ping frames rather than unsolicited Pongs.
            Assert.That(context.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(11)));
        }
    }

    [Test]
    public void AcceptContext_defaults_are_raccoons_30_s_ping_and_60_s_pong_wait()
    {
        var context = WebSocketEventsHandler.AcceptContext(CollectorSettings.From(new CollectorOptions()));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(context.KeepAliveInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(context.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
        }
    }

    [Test]
    public void AcceptContext_zero_ping_interval_sends_no_keep_alive()
    {
        var context = WebSocketEventsHandler.AcceptContext(CollectorSettings.From(new CollectorOptions { PingInterval = TimeSpan.Zero }));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(context.KeepAliveInterval, Is.EqualTo(TimeSpan.Zero));
            Assert.That(context.KeepAliveTimeout, Is.EqualTo(Timeout.InfiniteTimeSpan));
        }
    }

    [Test]
    public async Task Server_sends_a_real_ping_and_aborts_a_client_that_never_answers()
    {
        // .NET's keep-alive checks once a second at most: this test takes a few seconds, waiting on frames, not a clock.
        // The pong timeout spans at least one check after the ping: with a shorter one the abort (a reset) could
        // come in the same check as the ping and discard it, unread, on the client's side.
        await using RaccoonCollector collector = await RaccoonCollector.StartAsync(
            new CollectorOptions { PingInterval = TimeSpan.FromMilliseconds(1), PongTimeout = TimeSpan.FromSeconds(1.5) });

        // A raw client: ClientWebSocket would answer the ping itself, and hides control frames.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(collector.BaseAddress.Host, collector.BaseAddress.Port, Guard());
        NetworkStream stream = tcp.GetStream();
        string upgrade =
            "GET /api/v1/events HTTP/1.1\r\n" +
            $"Host: {collector.BaseAddress.Authority}\r\n" +
            "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            "X-User-ID: silent\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(upgrade), Guard());
        string head = await ReadHeadAsync(stream);

        var opcodes = new List<int>();
        byte[]? pingPayload = null;
        while (await ReadFrameAsync(stream) is { } frame)
        {
            opcodes.Add(frame.Opcode);
            pingPayload ??= frame.Opcode == 0x9 ? frame.Payload : null;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(head, Does.StartWith("HTTP/1.1 101 "));
            Assert.That(opcodes, Is.Not.Empty.And.All.EqualTo(0x9), "Ping frames (0x9), not unsolicited Pongs (0xA), then the abort");
            Assert.That(pingPayload, Has.Length.EqualTo(8), ".NET's ping carries a counter the pong must echo");
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, Guard()) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>One unmasked server frame, or null once the connection ended (closed or reset).</summary>
    private static async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync(NetworkStream stream)
    {
        try
        {
            var header = new byte[2];
            await stream.ReadExactlyAsync(header, Guard());
            int length = header[1] & 0x7F;
            if (length >= 126)
            {
                var extended = new byte[length == 126 ? 2 : 8];
                await stream.ReadExactlyAsync(extended, Guard());
                length = (int)(length == 126 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : BinaryPrimitives.ReadInt64BigEndian(extended));
            }

            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, Guard());
            return (header[0] & 0x0F, payload);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }
    }
}
