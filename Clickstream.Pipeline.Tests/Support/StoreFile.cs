using Clickstream.Pipeline.Storage;
using LiteDB;

namespace Clickstream.Pipeline.Tests.Support;

/// <summary>Reads a pipeline's LiteDB file as it is on disk now, from a copy, while the pipeline holds it open.</summary>
internal static class StoreFile
{
    /// <summary>The ids of the events committed to the file (the data file and its write-ahead log).</summary>
    public static List<long> CommittedEventIds(string storePath)
    {
        using var db = OpenCopy(storePath);
        return PendingEventIds(db);
    }

    /// <summary>How many documents <paramref name="collection"/> holds in the file as committed now.</summary>
    public static int Documents(string storePath, string collection)
    {
        using var db = OpenCopy(storePath);
        return db.GetCollection(collection).Count();
    }

    /// <summary>The ids of the events in the segments of <paramref name="db"/> that are not marked done, in the order the payloads are read.</summary>
    public static List<long> PendingEventIds(LiteDatabase db)
    {
        var ids = new List<long>();
        var entries = new List<SegmentEntry>();
        foreach (var payload in db.GetCollection(StoreDatabase.PayloadsCollection).FindAll())
        {
            var head = db.GetCollection(StoreDatabase.SegmentsCollection).FindById(payload["_id"]);
            var done = head[SegmentLayout.Done].IsBinary ? head[SegmentLayout.Done].AsBinary : null;
            SegmentLayout.Decode(payload, entries);
            for (var i = 0; i < entries.Count; i++)
            {
                if (!SegmentLayout.IsDone(done, i))
                {
                    ids.Add(entries[i].Id);
                }
            }
        }

        return ids;
    }

    /// <summary>The request records in the file (req_guid and the event ids each names).</summary>
    public static Dictionary<Guid, long[]> Requests(string storePath)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = storePath, Connection = ConnectionType.Direct });
        return db.GetCollection("requests").FindAll().ToDictionary(d => d["_id"].AsGuid, d => d["e"].AsArray.Select(v => v.AsInt64).ToArray());
    }

    /// <summary>
    /// Overwrites the packed events of the <paramref name="index"/>-th segment (in id order) of a closed store with
    /// bytes that cannot be decoded (an event claiming more bytes than there are), as a bad sector would. Returns
    /// the bytes of the events it held.
    /// </summary>
    public static List<byte[]> CorruptPayload(string storePath, int index)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = storePath, Connection = ConnectionType.Direct });
        var payloads = db.GetCollection(StoreDatabase.PayloadsCollection);
        var payload = payloads.Find(Query.All("_id", Query.Ascending)).ElementAt(index);
        var entries = new List<SegmentEntry>();
        SegmentLayout.Decode(payload, entries);
        var garbage = new byte[entries.Count * 64];
        Array.Fill(garbage, (byte)0x7F);
        payload[SegmentLayout.Entries] = garbage;
        payloads.Update(payload);
        return entries.Select(e => e.CopyBytes()).ToList();
    }

    private static LiteDatabase OpenCopy(string storePath)
    {
        var copy = Path.Combine(Path.GetDirectoryName(storePath)!, "copy-" + Guid.NewGuid().ToString("N") + ".db");
        CopyShared(storePath, copy);
        var log = LogPath(storePath);
        if (File.Exists(log))
        {
            CopyShared(log, LogPath(copy));
        }

        return new LiteDatabase(new ConnectionString { Filename = copy, Connection = ConnectionType.Direct });
    }

    private static string LogPath(string dataPath) =>
        Path.Combine(Path.GetDirectoryName(dataPath)!, Path.GetFileNameWithoutExtension(dataPath) + "-log" + Path.GetExtension(dataPath));

    private static void CopyShared(string source, string destination)
    {
        using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var to = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        from.CopyTo(to);
    }
}
