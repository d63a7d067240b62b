namespace Clickstream.Collector;

/// <summary>A fault and the share of valid requests that get it, for <see cref="CollectorFaults.FailRandomly(IReadOnlyList{FaultRate}, int?)"/>.</summary>
/// <param name="Fault">The fault.</param>
/// <param name="Rate">The share, 0 to 1.</param>
public readonly record struct FaultRate(Fault Fault, double Rate);
