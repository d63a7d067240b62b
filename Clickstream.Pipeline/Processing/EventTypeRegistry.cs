using System.Collections.Concurrent;
using System.Collections.Frozen;
using Google.Protobuf.Reflection;

namespace Clickstream.Pipeline.Processing;

/// <summary>
/// Maps a protobuf descriptor to its <see cref="EventTypeInfo"/>, computing it once: the per-event cost is a
/// dictionary lookup keyed by the descriptor's reference.
/// </summary>
internal sealed class EventTypeRegistry
{
    private readonly ConcurrentDictionary<MessageDescriptor, EventTypeInfo> _byDescriptor = new();
    private readonly ConcurrentDictionary<string, EventTypeInfo> _durableByType = new(StringComparer.Ordinal);
    private readonly FrozenSet<string> _instantTypes;
    private readonly string? _group;

    public EventTypeRegistry(FrozenSet<string> instantTypes, string? group)
    {
        _instantTypes = instantTypes;
        _group = group;
    }

    /// <summary>The type of a message; computed on first use of its descriptor.</summary>
    public EventTypeInfo Get(MessageDescriptor descriptor) =>
        _byDescriptor.TryGetValue(descriptor, out var info) ? info : _byDescriptor.GetOrAdd(descriptor, Create);

    /// <summary>The types of the events tracked so far (not those read back from the store), for the metrics.</summary>
    public ICollection<EventTypeInfo> Tracked => _byDescriptor.Values;

    /// <summary>The type of an event read back from the store: always QoS1, whatever the options say now.</summary>
    public EventTypeInfo GetDurable(string type) =>
        _durableByType.TryGetValue(type, out var info) ? info : _durableByType.GetOrAdd(type, static t => new EventTypeInfo(t, durable: true));

    /// <summary>The Raccoon type of a descriptor: the last segment of its full name, lower-cased, prefixed <c>group-</c> when a group is set.</summary>
    public static string TypeName(MessageDescriptor descriptor, string? group)
    {
        var name = descriptor.Name.ToLowerInvariant();
        return group is null ? name : group + "-" + name;
    }

    private EventTypeInfo Create(MessageDescriptor descriptor)
    {
        var type = TypeName(descriptor, _group);
        var instant = _instantTypes.Contains(descriptor.Name)
            || _instantTypes.Contains(descriptor.FullName)
            || _instantTypes.Contains(type)
            || _instantTypes.Contains(descriptor.Name.ToLowerInvariant());
        return new EventTypeInfo(type, durable: !instant);
    }
}
