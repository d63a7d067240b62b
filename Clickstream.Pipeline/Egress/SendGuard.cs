using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Egress;

/// <summary>
/// Makes every send end in an outcome, whatever the code in its path does. A transport reports the failures it knows,
/// but the send path also runs the app's code (the <c>AuthorizationProvider</c>, <c>DelegatingHandler</c>s, resilience
/// handlers, headers): an exception from any of it becomes a failure of that batch (<see cref="FailureClassifier"/>),
/// and a send that has not ended <see cref="Deadline"/> after it started, because something in it ignores its token,
/// is abandoned as a <see cref="SendResult.Timeout"/> marked <see cref="SendOutcome.Abandoned"/>.
/// </summary>
/// <remarks>
/// Only the pipeline's own shutdown is thrown (<see cref="OperationCanceledException"/> on the caller's token). An
/// abandoned send may still read its batch later, so the egress must not recycle that batch's pooled envelopes.
/// Does not own the transport it guards.
/// </remarks>
internal sealed class SendGuard(IEventTransport transport, TimeSpan deadline, TimeProvider timeProvider) : IEventTransport
{
    /// <summary>How long a send may run before it is abandoned.</summary>
    public TimeSpan Deadline => deadline;

    public async Task<SendOutcome> SendAsync(Guid requestGuid, EventEnvelope[] events, CancellationToken cancellationToken)
    {
        // Armed before the transport runs any of the app's code, so that the deadline counts from the send's start.
        using var deadlineSource = new CancellationTokenSource(deadline, timeProvider);
        using var waitSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineSource.Token);
        Task<SendOutcome> send;
        try
        {
            send = transport.SendAsync(requestGuid, events, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return FailureClassifier.FromException(ex);
        }

        try
        {
            return await send.WaitAsync(waitSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!send.IsCompleted)
        {
            Observe(send);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return new SendOutcome(
                SendResult.Timeout,
                Detail: $"the send had not ended {deadline} after it started, although cancelled: abandoned (code in the send path ignores its cancellation token)",
                Abandoned: true);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return FailureClassifier.FromException(ex);
        }
    }

    /// <summary>Nothing to release: the guarded transport belongs to the pipeline.</summary>
    public void Dispose()
    {
    }

    /// <summary>An abandoned send may still fail later: its exception is observed, so it never reaches UnobservedTaskException.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
