namespace Clickstream.Pipeline.Tests.Support;

/// <summary>A "random" source that always draws the same sample: jittered delays become exact, so tests can step the clock to them.</summary>
internal sealed class FixedRandom(double sample) : Random
{
    /// <summary>Just under 1: every jittered delay is (almost exactly) its ceiling.</summary>
    public static FixedRandom Ceiling { get; } = new(0.999_999);

    public override double NextDouble() => sample;

    protected override double Sample() => sample;
}
