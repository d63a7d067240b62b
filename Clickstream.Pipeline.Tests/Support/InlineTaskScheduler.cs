namespace Clickstream.Pipeline.Tests.Support;

/// <summary>
/// Runs every task at once on the thread that queues it: a Dataflow block given this scheduler has handled a message
/// when <c>Post</c> returns, so that a test can step a block message by message on fake time.
/// </summary>
internal sealed class InlineTaskScheduler : TaskScheduler
{
    public static readonly InlineTaskScheduler Instance = new();

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => TryExecuteTask(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [];
}
