using System.Text;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// What the pipeline knows of one event type, computed once per protobuf descriptor: its Raccoon
/// <c>type</c> (as text and as the UTF-8 bytes written on the wire) and its QoS class.
/// </summary>
internal sealed class EventTypeInfo
{
    private long _tracked;

    public EventTypeInfo(string type, bool durable)
    {
        Type = type;
        TypeUtf8 = Encoding.UTF8.GetBytes(type);
        Durable = durable;
    }

    /// <summary>The Raccoon <c>type</c>: the message name, lower-cased, with the group prefix when set.</summary>
    public string Type { get; }

    /// <summary><see cref="Type"/> as UTF-8, written as is into every request.</summary>
    public byte[] TypeUtf8 { get; }

    /// <summary>Events of this type taken in by the processor (the <c>clickstream.events.tracked</c> instrument).</summary>
    public long Tracked => Volatile.Read(ref _tracked);

    /// <summary>QoS1 (stored before TrackAsync completes) when true; QoS0 (memory only) when false.</summary>
    public bool Durable { get; }

    /// <summary>
    /// Counts one event. Called by the processor only, which handles one chunk at a time: a plain increment, no
    /// atomic operation on the event path (the block's hand-over from one message to the next orders successive
    /// calls; readers use <see cref="Volatile"/>).
    /// </summary>
    public void CountTracked() => _tracked++;
}
