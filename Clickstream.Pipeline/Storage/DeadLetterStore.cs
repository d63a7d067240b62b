using Clickstream.Pipeline.Diagnostics;
using Clickstream.Pipeline.Processing;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// The dead letters: events the server refused for good, kept with the reason, at most <c>MaxDeadLetters</c> (the
/// oldest go first). Read on the caller's thread; written on the writer thread, inside the command transaction
/// (<see cref="RequestLog"/>).
/// </summary>
internal sealed class DeadLetterStore(StoreContext context)
{
    // Dead letters deleted by the bound in the open command transaction: counted and logged once it commits.
    private int _evicted;

    /// <summary>The newest dead letters first, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadNewest(int max) =>
        ToDeadLetters(context.File.ReadNewest(StoreDatabase.DeadLettersCollection, max));

    /// <summary>The oldest dead letters with a key above <paramref name="afterId"/>, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> ReadAfter(long afterId, int max) =>
        ToDeadLetters(context.File.Read(StoreDatabase.DeadLettersCollection, Query.GT(StoreDatabase.IdField, afterId), max));

    /// <summary>The dead letters of these keys that exist, in key order.</summary>
    public IReadOnlyList<ClickstreamDeadLetter> Read(long[] ids)
    {
        var values = new BsonArray();
        foreach (var id in ids)
        {
            values.Add(id);
        }

        return ToDeadLetters(context.File.Read(StoreDatabase.DeadLettersCollection, Query.In(StoreDatabase.IdField, values), int.MaxValue));
    }

    /// <summary>Dead letters as the store keeps them (also read by <see cref="StoreInspector"/>).</summary>
    internal static List<ClickstreamDeadLetter> ToDeadLetters(List<BsonDocument> documents)
    {
        var result = new List<ClickstreamDeadLetter>(documents.Count);
        foreach (var doc in documents)
        {
            result.Add(new ClickstreamDeadLetter
            {
                Id = doc["_id"].AsInt64,
                EventGuid = doc["g"].AsGuid,
                Type = doc["y"].AsString,
                TrackedAt = new DateTimeOffset(doc["t"].AsInt64, TimeSpan.Zero),
                DeadLetteredAt = new DateTimeOffset(doc["at"].AsInt64, TimeSpan.Zero),
                Reason = doc["r"].AsString,
                EventBytes = doc["b"].AsBinary,
            });
        }

        return result;
    }

    /// <summary>Writes the refused event as a dead letter, in the open transaction, and deletes the oldest beyond the bound.</summary>
    public void Add(EventEnvelope refused, string? reason)
    {
        var letter = new BsonDocument
        {
            ["_id"] = refused.Id,
            ["g"] = refused.EventGuid,
            ["t"] = refused.TimestampTicks,
            ["y"] = refused.TypeInfo.Type,
            ["b"] = refused.Bytes,
            ["r"] = reason ?? string.Empty,
            ["at"] = context.TimeProvider.GetUtcNow().UtcTicks,
        };
        context.File.DeadLetters.Upsert(letter);
        EvictOverBound();
    }

    /// <summary>Deletes the dead letters of these keys (all of them when null) in the open transaction; returns how many were deleted.</summary>
    public int Delete(long[]? ids)
    {
        if (ids is null)
        {
            return context.File.DeadLetters.DeleteAll();
        }

        var deleted = 0;
        foreach (var id in ids)
        {
            deleted += context.File.DeadLetters.Delete(id) ? 1 : 0;
        }

        return deleted;
    }

    /// <summary>After the command transaction: the dead letters the bound evicted are counted and logged once, or forgotten if it failed.</summary>
    public void EndTransaction(bool committed)
    {
        var evicted = _evicted;
        _evicted = 0;
        if (committed && evicted > 0)
        {
            var total = Interlocked.Add(ref context.Counters.DeadLettersEvicted, evicted);
            Log.DeadLettersEvicted(context.Logger, evicted, context.Options.MaxDeadLetters, total);
        }
    }

    /// <summary>Deletes the oldest dead letters beyond the bound, in the open transaction; counted once it commits.</summary>
    private void EvictOverBound()
    {
        var excess = context.File.DeadLetters.LongCount() - context.Options.MaxDeadLetters;
        if (excess <= 0)
        {
            return;
        }

        // Keys are event ids, so ascending keys are the oldest events. Read first, then delete: no write while a
        // query over the same collection is still open.
        var oldest = new List<BsonValue>();
        foreach (var doc in context.File.DeadLetters.Find(Query.All("_id", Query.Ascending), limit: (int)Math.Min(excess, int.MaxValue)))
        {
            oldest.Add(doc["_id"]);
        }

        foreach (var key in oldest)
        {
            _evicted += context.File.DeadLetters.Delete(key) ? 1 : 0;
        }
    }
}
