using ScottPlot;

namespace Clickstream.Benchmarks.Report;

/// <summary>The end-to-end chart: events/s and allocated bytes per event, pipeline against the peer and the raw limit.</summary>
internal static class E2eChart
{
    public static readonly string RelativePath = Path.Combine("docs", "benchmarks", "e2e.png");

    public static void Write(IReadOnlyList<ContenderSummary> contenders, string output)
    {
        var path = Path.Combine(output, RelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Panel(multiplot.GetPlot(0), contenders, "End-to-end delivery, events/s (median)", c => c.EventsPerSecond, "N0");
        Panel(multiplot.GetPlot(1), contenders, "Allocated bytes per event, sending process", c => c.BytesPerEvent, "N0");
        multiplot.SavePng(path, 1400, 560);
    }

    private static void Panel(Plot plot, IReadOnlyList<ContenderSummary> contenders, string title, Func<ContenderSummary, double> value, string format)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>(contenders.Count);
        var ticks = new double[contenders.Count];
        var labels = new string[contenders.Count];
        for (var i = 0; i < contenders.Count; i++)
        {
            var v = value(contenders[i]);
            bars.Add(new Bar
            {
                Position = i,
                Value = v,
                FillColor = palette.GetColor(i),
                Label = v.ToString(format, System.Globalization.CultureInfo.InvariantCulture),
            });
            ticks[i] = i;
            labels[i] = contenders[i].Contender;
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(ticks, labels);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
    }
}
