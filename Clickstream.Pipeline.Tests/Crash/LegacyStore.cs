using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Storage;
using Clickstream.Samples;
using Google.Protobuf;
using LiteDB;

namespace Clickstream.Pipeline.Tests.Crash;

/// <summary>
/// Writes a store of the legacy layout (one document per event, no format version), as a version before segments
/// left it, so that the first child migrates it while the harness kills it and cuts the power.
/// </summary>
internal static class LegacyStore
{
    /// <summary>
    /// Creates <paramref name="path"/> holding the QoS1 purchases numbered <paramref name="from"/> to
    /// <paramref name="from"/> + <paramref name="count"/> - 1, synced to the device (file and folder) before it
    /// returns: they stand for events whose <c>TrackAsync</c> completed long ago. Returns their numbers.
    /// </summary>
    public static IReadOnlyList<int> Seed(string path, int from, int count, TimeProvider time)
    {
        var type = EventTypeRegistry.TypeName(Purchase.Descriptor, group: null);
        var numbers = new int[count];
        var now = time.GetUtcNow().UtcTicks;
        using (var database = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct }))
        {
            var events = database.GetCollection(StoreDatabase.LegacyEventsCollection, BsonAutoId.Int64);
            database.BeginTrans();
            for (var i = 0; i < count; i++)
            {
                numbers[i] = from + i;
                events.Insert(new BsonDocument
                {
                    ["_id"] = (long)i + 1,
                    ["g"] = Guid.CreateVersion7(),
                    ["t"] = now + i,
                    ["y"] = type,
                    ["b"] = SampleEvents.Purchase(from + i).ToByteArray(),
                });
            }

            database.Commit();
        }

        // The clean close copied the log into the data file and deleted the log; the copy is only in the page
        // cache (LazyFS's) until synced, like the folder entry of the new file.
        using (var data = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            data.Flush(flushToDisk: true);
        }

        StoreFileSystem.SyncFolderOf(path);
        return numbers;
    }
}
