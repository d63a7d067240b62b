using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// Answers 400 for any request that carries a poison payload, as a server refusing a bad event does, until
/// <see cref="Refusing"/> is switched off (the server fixed).
/// </summary>
internal sealed class RefusingTransport(IEventTransport inner, params string[] poison) : IEventTransport
{
    private volatile bool _refusing = true;

    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    public Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            if (_refusing && Array.IndexOf(poison, Convert.ToBase64String(e.Bytes)) >= 0)
            {
                return Task.FromResult(new SendOutcome(SendResult.Rejected, 400, "cannot deserialize event"));
            }
        }

        return inner.SendAsync(requestGuid, events, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}
