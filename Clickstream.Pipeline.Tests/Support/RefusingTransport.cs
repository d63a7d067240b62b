using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>Answers 400 for any request that carries the poison payload, as a server refusing a bad event does.</summary>
internal sealed class RefusingTransport(IEventTransport inner, string poison) : IEventTransport
{
    public Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            if (Convert.ToBase64String(e.Bytes) == poison)
            {
                return Task.FromResult(new SendOutcome(SendResult.Rejected, 400, "cannot deserialize event"));
            }
        }

        return inner.SendAsync(requestGuid, events, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}
