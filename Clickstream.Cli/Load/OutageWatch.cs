using System.Net.Sockets;

namespace Clickstream.Cli.Load;

/// <summary>
/// Watches the endpoint from outside the pipeline, a TCP connect every <see cref="Interval"/>, to see when the collector
/// goes down and comes back (a flapping one: <c>collector --down-every 8s --down-for 4s</c> closes its ports while down).
/// Its up-edges are what <see cref="LoadReport"/> measures the time to the first acknowledged request from. The cost: one
/// connection per interval to the server, opened and closed at once.
/// </summary>
internal sealed class OutageWatch(Uri endpoint, TimeProvider time)
{
    /// <summary>The watch's resolution: an edge is seen at most this late (plus the connect itself).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    // A connect that takes longer than this counts as down (a dropped SYN, not a refused one).
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly List<long> _upEdges = [];
    private int _downEdges;

    /// <summary>When the endpoint was seen up again after being seen down (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long[] UpEdges
    {
        get
        {
            lock (_lock)
            {
                return [.. _upEdges];
            }
        }
    }

    /// <summary>How many times the endpoint was seen going down.</summary>
    public int DownEdges => Volatile.Read(ref _downEdges);

    /// <summary>Watches until <paramref name="cancellationToken"/> is cancelled; the endpoint is taken to be up at the start.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var up = true;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = await IsUpAsync(cancellationToken);
                if (now == up)
                {
                    continue;
                }

                up = now;
                if (now)
                {
                    lock (_lock)
                    {
                        _upEdges.Add(time.GetTimestamp());
                    }
                }
                else
                {
                    Interlocked.Increment(ref _downEdges);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private async Task<bool> IsUpAsync(CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(ConnectTimeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, attempt.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
