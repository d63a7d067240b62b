using System.Collections.Concurrent;
using System.Diagnostics;
using Clickstream.Pipeline.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The egress's commands, on the writer thread, all those waiting at a wake in one transaction: the request record
/// of a batch (<c>_id</c> = req_guid, naming its QoS1 event ids) written before it is sent; an ack, which deletes
/// the record and marks its events done; a release, which deletes the record of a failed request (its events are
/// pending again); and the dead letters' commands (<see cref="DeadLetterStore"/>). An ack whose transaction failed
/// is applied again, on its own, before the next commands.
/// </summary>
internal sealed class RequestLog(StoreContext context, StoreFileGuard guard, LiveSegments live, StoreLedger ledger, DeadLetterStore deadLetters)
{
    /// <summary>Transactions tried for an ack that failed once, before its events are left on disk for the next start.</summary>
    private const int MaxAckAttempts = 3;

    private readonly List<StoreCommand> _group = [];

    // Acks whose transaction failed, applied again before the next commands (see ReleaseUnapplied).
    private readonly List<StoreCommand> _unappliedAcks = [];
    private int _unappliedAttempts;

    /// <summary>Applies the commands <paramref name="commands"/> holds in one transaction, then completes them (or fails them all).</summary>
    public void Drain(ConcurrentQueue<StoreCommand> commands)
    {
        while (commands.TryDequeue(out var command))
        {
            _group.Add(command);
        }

        ReapplyAcks();
        if (_group.Count == 0)
        {
            return;
        }

        var deletedEvents = 0;
        long freedMemoryBytes = 0;
        Exception? failure = null;
        if (!guard.EnsureOpen(out var openError))
        {
            failure = openError;
        }
        else
        {
            try
            {
                deletedEvents = ApplyInTransaction(_group, ref freedMemoryBytes);
            }
            catch (Exception ex)
            {
                live.EndTouched(committed: false);
                deadLetters.EndTransaction(committed: false);
                guard.OnFailure("request records", ex);
                failure = ex;
            }
        }

        if (failure is not null)
        {
            foreach (var command in _group)
            {
                if (command.Kind == StoreCommandKind.Acknowledge)
                {
                    ReleaseUnapplied(command);
                }

                command.Done.TrySetException(failure);
            }

            _group.Clear();
            return;
        }

        live.EndTouched(committed: true);
        deadLetters.EndTransaction(committed: true);
        ledger.InMemory -= deletedEvents;
        ledger.InMemoryBytes -= freedMemoryBytes;
        ledger.StoredEvents -= deletedEvents;
        ledger.StoredBytes -= freedMemoryBytes;
        Debug.Assert(ledger.InMemory >= 0, "More QoS1 events acknowledged than handed over.");
        ledger.DeletedSinceCompactionCheck |= deletedEvents > 0;
        Interlocked.Add(ref context.Counters.PendingOnDisk, -deletedEvents);

        // After the commit, so that a checkpoint that fails does not undo it; before the answers, where LiteDB's own
        // would run.
        guard.CheckpointIfDue();
        foreach (var command in _group)
        {
            command.Done.TrySetResult();
        }

        _group.Clear();
    }

    /// <summary>
    /// Applies <paramref name="commands"/> in one transaction, with the segments they touched; returns the QoS1
    /// events they marked done (all of them held in memory) and adds their bytes. Throws when the transaction fails.
    /// </summary>
    private int ApplyInTransaction(List<StoreCommand> commands, ref long freedBytes)
    {
        var events = 0;
        context.File.Database.BeginTrans();
        foreach (var command in commands)
        {
            events += Apply(command, ref freedBytes);
        }

        live.PersistTouched();
        context.File.Database.Commit();
        return events;
    }

    /// <summary>
    /// An ack whose transaction failed: the server has its events, the egress counts them delivered and lets them
    /// go, so they leave the memory budget now, as they would have with the commit; on disk they are still pending
    /// (the transaction undid its marks), and the ack is applied again before the next commands. Should the
    /// process end first, they are sent again at the next start (a duplicate, which at-least-once allows).
    /// </summary>
    private void ReleaseUnapplied(StoreCommand ack)
    {
        foreach (var e in ack.Events)
        {
            var segment = e.Durable ? live.Find(e.Id) : null;
            var index = segment?.IndexOf(e.Id) ?? -1;
            if (index >= 0 && !segment!.IsDone(index))
            {
                ledger.InMemory--;
                ledger.InMemoryBytes -= StorePolicy.SizeOf(e);
            }
        }

        _unappliedAcks.Add(ack);
    }

    /// <summary>
    /// Applies the acks whose transaction failed (see <see cref="ReleaseUnapplied"/>) in a transaction of their own,
    /// so that they never hold up the commands behind them; after <see cref="MaxAckAttempts"/> failures they are
    /// given up: their events stay pending on disk and are sent again at the next start.
    /// </summary>
    private void ReapplyAcks()
    {
        if (_unappliedAcks.Count == 0 || !guard.EnsureOpen(out _))
        {
            return;
        }

        int events;
        long bytes = 0;
        try
        {
            events = ApplyInTransaction(_unappliedAcks, ref bytes);
        }
        catch (Exception ex)
        {
            live.EndTouched(committed: false);
            guard.OnFailure("acknowledge again", ex);
            if (++_unappliedAttempts >= MaxAckAttempts)
            {
                _unappliedAcks.Clear();
                _unappliedAttempts = 0;
            }

            return;
        }

        // Their events left the memory budget when the ack failed; only the disk's counts change now.
        live.EndTouched(committed: true);
        _unappliedAcks.Clear();
        _unappliedAttempts = 0;
        ledger.StoredEvents -= events;
        ledger.StoredBytes -= bytes;
        ledger.DeletedSinceCompactionCheck |= events > 0;
        Interlocked.Add(ref context.Counters.PendingOnDisk, -events);
        guard.CheckpointIfDue();
    }

    /// <summary>
    /// Applies one command inside the open transaction; returns the QoS1 events it marked done (all of them held
    /// in memory) and adds their bytes.
    /// </summary>
    private int Apply(StoreCommand command, ref long freedBytes)
    {
        var id = new BsonValue(command.RequestGuid);
        switch (command.Kind)
        {
            case StoreCommandKind.BeginRequest:
                var ids = new BsonArray();
                foreach (var e in command.Events)
                {
                    if (e.Durable)
                    {
                        ids.Add(new BsonValue(e.Id));
                    }
                }

                context.File.Requests.Insert(new BsonDocument { ["_id"] = id, ["e"] = ids });
                return 0;

            case StoreCommandKind.Acknowledge:
                context.File.Requests.Delete(id);
                var deleted = 0;
                foreach (var e in command.Events)
                {
                    if (e.Durable && live.MarkDone(live.Find(e.Id), e.Id, StorePolicy.SizeOf(e)))
                    {
                        deleted++;
                        freedBytes += StorePolicy.SizeOf(e);
                    }
                }

                return deleted;

            case StoreCommandKind.DeadLetter:
                var refused = command.Events[0];
                var moved = live.MarkDone(live.Find(refused.Id), refused.Id, StorePolicy.SizeOf(refused));
                deadLetters.Add(refused, command.Reason);

                // The event leaves memory and the disk's pending set, like an ack. Dead letters are not counted
                // against the store's bounds: there are at most MaxDeadLetters of them.
                if (moved)
                {
                    freedBytes += StorePolicy.SizeOf(refused);
                }

                return moved ? 1 : 0;

            case StoreCommandKind.DeleteDeadLetters:
                command.Affected = deadLetters.Delete(command.DeadLetterIds);
                return 0;

            default:
                context.File.Requests.Delete(id);
                return 0;
        }
    }
}
