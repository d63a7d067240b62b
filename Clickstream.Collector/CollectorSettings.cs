using System.Globalization;
using System.Net;

namespace Clickstream.Collector;

/// <summary>A validated copy of <see cref="CollectorOptions"/>, so later edits to the options do not leak in.</summary>
internal sealed class CollectorSettings
{
    private CollectorSettings(IPAddress address, int port, bool keepEvents, TimeProvider timeProvider)
    {
        Address = address;
        Port = port;
        KeepEvents = keepEvents;
        TimeProvider = timeProvider;
    }

    public IPAddress Address { get; }

    public int Port { get; }

    public bool KeepEvents { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Validates <paramref name="options"/> and copies them.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public static CollectorSettings From(CollectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = Validate(options, out IPAddress? address);
        if (errors.Count != 0)
        {
            throw new ArgumentException("Invalid collector options: " + string.Join(" ", errors), nameof(options));
        }

        return new CollectorSettings(address!, options.Port, options.KeepEvents, options.TimeProvider);
    }

    /// <summary>Every problem with <paramref name="options"/>, one sentence each; empty when they are valid.</summary>
    public static IReadOnlyList<string> Validate(CollectorOptions options, out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        address = null;
        if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(options.Host, out address))
        {
            errors.Add($"{nameof(CollectorOptions.Host)} must be an IP address or 'localhost' (was '{options.Host}').");
        }

        if (options.Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{nameof(CollectorOptions.Port)} must be between {IPEndPoint.MinPort} and {IPEndPoint.MaxPort}, 0 for any free port (was {options.Port})."));
        }

        if (options.TimeProvider is null)
        {
            errors.Add($"{nameof(CollectorOptions.TimeProvider)} must not be null.");
        }

        return errors;
    }
}
