namespace Clickstream.Pipeline.Flow;

/// <summary>
/// Runs every task at once on the thread that queues it. A Dataflow block given this scheduler handles a message
/// inside the <c>Post</c> (or the offer from a linked source) that brings it: the processor and the store stage run on
/// the ingress pump's thread, so an event reaches the store's writer with no thread-pool hop between the blocks.
/// Only for blocks whose work is short and never blocks: the processor stamps a chunk, the store stage queues it.
/// Tests use it to step a block message by message on fake time.
/// </summary>
internal sealed class InlineTaskScheduler : TaskScheduler
{
    public static readonly InlineTaskScheduler Instance = new();

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => TryExecuteTask(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [];
}
