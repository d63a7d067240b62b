using System.Threading.Tasks.Dataflow;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// A Dataflow target that hands each message to a method at once, on the sender's thread, with no queue
/// of its own: how the processor's output reaches the store's and the scheduler's own queues.
/// </summary>
internal sealed class ActionTarget<T> : ITargetBlock<T>
{
    private readonly Action<T> _action;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ActionTarget(Action<T> action) => _action = action;

    public Task Completion => _completion.Task;

    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, T messageValue, ISourceBlock<T>? source, bool consumeToAccept)
    {
        if (consumeToAccept)
        {
            messageValue = source!.ConsumeMessage(messageHeader, this, out var consumed)!;
            if (!consumed)
            {
                return DataflowMessageStatus.NotAvailable;
            }
        }

        _action(messageValue);
        return DataflowMessageStatus.Accepted;
    }

    public void Complete() => _completion.TrySetResult();

    public void Fault(Exception exception) => _completion.TrySetException(exception);
}
