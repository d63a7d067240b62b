using Clickstream.Pipeline.Processing;

namespace Clickstream.Pipeline.Tests.Support;

internal static class Envelopes
{
    public static readonly EventTypeInfo Durable = new("pageview", durable: true);
    public static readonly EventTypeInfo Instant = new("click", durable: false);

    /// <summary>An envelope as the processor leaves it: id, guid, time set.</summary>
    public static EventEnvelope Make(long id, int size = 100, bool durable = true)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)(id + i);
        }

        return new EventEnvelope(durable ? Durable : Instant, bytes, CancellationToken.None)
        {
            Id = id,
            EventGuid = Guid.CreateVersion7(),
            TimestampTicks = DateTimeOffset.UtcNow.UtcTicks,
            Route = durable ? EventRoute.Store : EventRoute.Scheduler,
        };
    }
}
