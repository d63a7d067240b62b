using System.Diagnostics;
using Clickstream.Pipeline.Transports;

namespace Clickstream.Pipeline.Diagnostics;

/// <summary>
/// The names the pipeline reports under, in one place: the <see cref="System.Diagnostics.Metrics.Meter"/> and the
/// <see cref="ActivitySource"/> are both <see cref="Name"/>, and every tag value is a constant string taken from
/// the tables here, so that recording a measurement or a span tag allocates nothing.
/// </summary>
internal static class Telemetry
{
    /// <summary>The meter's and the activity source's name: what <c>AddMeter</c>/<c>AddSource</c> subscribe to.</summary>
    public const string Name = "Clickstream.Pipeline";

    /// <summary>The span of one request sent.</summary>
    public const string SendActivityName = "clickstream.send";

    /// <summary>The meter tag that tells the pipelines of one process apart.</summary>
    public const string InstanceTag = "clickstream.pipeline.instance";

    /// <summary>One source for every pipeline of the process; spans tell pipelines apart by their tags.</summary>
    public static ActivitySource Source { get; } = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The version reported with the meter and the source: the assembly's.</summary>
    public static string? Version => Source.Version;

    private static readonly string[] ResultNames = CreateResultNames();

    /// <summary>A <see cref="SendResult"/> as a tag value: <c>acknowledged</c>, <c>network_error</c>, <c>server_error</c>...</summary>
    public static string ResultName(SendResult result) => ResultNames[(int)result];

    /// <summary>The number of <see cref="SendResult"/> values, to size arrays indexed by it.</summary>
    public static int ResultCount => ResultNames.Length;

    /// <summary>A transport as a tag value.</summary>
    public static string TransportName(ClickstreamTransport transport) => transport switch
    {
        ClickstreamTransport.HttpJson => "http_json",
        ClickstreamTransport.Grpc => "grpc",
        ClickstreamTransport.WebSocket => "websocket",
        _ => "http",
    };

    /// <summary><c>PascalCase</c> to <c>snake_case</c>, for tag values taken from enum names.</summary>
    public static string SnakeCase(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static string[] CreateResultNames()
    {
        var values = Enum.GetValues<SendResult>();
        var names = new string[values.Length];
        foreach (var value in values)
        {
            names[(int)value] = SnakeCase(value.ToString());
        }

        return names;
    }
}
