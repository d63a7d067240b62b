using Clickstream.Pipeline;

namespace Clickstream.Benchmarks.Harness;

/// <summary>The names of the end-to-end contenders, as the child processes receive them and the report prints them.</summary>
internal static class Contenders
{
    public const string PipelineQoS0 = "pipeline-qos0";
    public const string PipelineQoS1 = "pipeline-qos1";
    public const string OpenTelemetry = "otel-otlp";
    public const string Raw1 = "raw-1-connection";
    public const string Raw4 = "raw-4-connections";
    public const string BacklogWrite = "backlog-write";
    public const string BacklogDrain = "backlog-drain";

    private const string TransportPrefix = "transport-";

    /// <summary>The delivery contenders against the counting stub, alternated run after run.</summary>
    public static readonly string[] Delivery = [PipelineQoS0, OpenTelemetry, Raw1, Raw4, PipelineQoS1];

    /// <summary>QoS0 on each transport against the collector in the stub's process (the same server for all four).</summary>
    public static readonly string[] Transports =
        [Transport(ClickstreamTransport.Http), Transport(ClickstreamTransport.HttpJson), Transport(ClickstreamTransport.Grpc), Transport(ClickstreamTransport.WebSocket)];

    public static string Transport(ClickstreamTransport transport) => TransportPrefix + transport.ToString().ToLowerInvariant();

    public static ClickstreamTransport? TransportOf(string contender)
    {
        if (!contender.StartsWith(TransportPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        return Enum.TryParse<ClickstreamTransport>(contender[TransportPrefix.Length..], ignoreCase: true, out var transport) ? transport : null;
    }
}
