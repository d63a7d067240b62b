using Clickstream.Pipeline.Diagnostics;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Brings a file of an earlier layout to <see cref="SegmentLayout.FormatVersion"/> at open. The layout before
/// segments (one document per event, no format version) is rewritten as segments in transactions of
/// <see cref="MigrationChunk"/> events, each deleting what it copied and synced, so a crash or a power cut half
/// way resumes at the next open. A file of a later format version cannot be read: it is moved aside.
/// </summary>
internal static class StoreMigration
{
    private const int MigrationChunk = 4096;

    /// <exception cref="InvalidDataException">The file has a later format version.</exception>
    public static void MigrateLegacyLayout(StoreContext context)
    {
        var file = context.File;
        var database = file.Database;
        var version = database.UserVersion;
        if (version == SegmentLayout.FormatVersion)
        {
            return;
        }

        if (version > SegmentLayout.FormatVersion)
        {
            throw new InvalidDataException($"The store has format version {version}; this version of Clickstream.Pipeline reads up to {SegmentLayout.FormatVersion}.");
        }

        if (database.CollectionExists(StoreDatabase.LegacyEventsCollection))
        {
            var hooks = context.Hooks;
            var legacy = database.GetCollection(StoreDatabase.LegacyEventsCollection);
            var size = hooks?.MigrationChunk ?? MigrationChunk;
            var chunk = new List<BsonDocument>(size);
            var builder = new SegmentBuilder();
            do
            {
                // Read first, then write: no insert while a query over the same file is still open.
                chunk.Clear();
                chunk.AddRange(legacy.Find(Query.All("_id", Query.Ascending), limit: size));
                database.BeginTrans();
                foreach (var doc in chunk)
                {
                    var bytes = doc["b"].AsBinary;
                    var type = doc["y"].AsString;
                    if (builder.IsFull(bytes.Length))
                    {
                        file.InsertSegment(builder);
                    }

                    builder.Add(doc["_id"].AsInt64, doc["g"].AsGuid, doc["t"].AsInt64, type, bytes, StorePolicy.SizeOf(bytes.Length, type.Length));
                }

                if (builder.Count > 0)
                {
                    file.InsertSegment(builder);
                }

                foreach (var doc in chunk)
                {
                    legacy.Delete(doc["_id"]);
                }

                database.Commit();

                // LiteDB's commit leaves the log in the page cache: without the sync a power cut undoes every
                // transaction since the open, and a migration cut each time never gets past its first chunks.
                file.FlushLogToDisk();
                hooks?.Migrated?.Invoke();
            }
            while (chunk.Count == size);

            database.DropCollection(StoreDatabase.LegacyEventsCollection);
            Log.StoreMigrated(context.Logger, file.Path, version, SegmentLayout.FormatVersion);
        }

        database.UserVersion = SegmentLayout.FormatVersion;
    }
}
