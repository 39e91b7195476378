using TacotronRecovery.Core.Health;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Plots;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Health;

public class MetricRecordMapperTests
{
    private static KeyValuePair<string, object?> P(string k, object? v) => new(k, v);

    [Fact]
    public void Map_CsvStringsWithNaN_StepMetrics()
    {
        var r = Assert.IsType<StepMetrics>(MetricRecordMapper.Map([P("Step", "12"), P("Loss", "NaN"), P("MelLoss", "0.25"), P("GradNorm", "-Infinity"), P("Skipped", "True"), P("Extra", "x")]));
        Assert.Equal(12, r.Step);
        Assert.True(double.IsNaN(r.Loss));
        Assert.Equal(0.25, r.MelLoss);
        Assert.Equal(double.NegativeInfinity, r.GradNorm);
        Assert.True(r.Skipped);
    }

    [Fact]
    public void Map_SnakeCaseJsonValues_AlignmentMetrics()
    {
        var r = Assert.IsType<AlignmentMetrics>(MetricRecordMapper.Map([P("step", 500L), P("diagonality", 0.61), P("gate_accuracy", 0.9), P("stop_accuracy", null), P("source", "validation")]));
        Assert.Equal((500, 0.61, 0.9, "validation"), (r.Step, r.Diagonality, r.GateAccuracy, r.Source));
        Assert.Null(r.StopAccuracy);
    }

    [Fact]
    public void Map_BadNumber_FormatExceptionNamesPropertyAndValue()
    {
        var e = Assert.Throws<FormatException>(() => MetricRecordMapper.Map([P("Step", 1), P("Loss", "abc")]));
        Assert.Equal("Property 'Loss' value 'abc' is not a number.", e.Message);
        var f = Assert.Throws<FormatException>(() => MetricRecordMapper.Map([P("Step", "1.5"), P("Loss", 1.0)]));
        Assert.Contains("'Step' value '1.5' is not a whole number", f.Message);
    }

    [Fact]
    public void Map_NeitherKind_FormatExceptionListsProperties()
    {
        var e = Assert.Throws<FormatException>(() => MetricRecordMapper.Map([P("Foo", 1), P("Bar", 2)]));
        Assert.Contains("Foo, Bar", e.Message);
    }
}

public sealed class RunHealthTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tacotron-runhealth-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Analyze_TornAndInvalidLines_SkippedAndCounted()
    {
        var run = new RunDirectory(Path.Combine(_dir, "r")).Create();
        var lines = HealthAnalyzerTests.Healthy(1, 300).Select(s => System.Text.Json.JsonSerializer.Serialize(s with { Run = null }, RunJson.Options)).ToList();
        lines.Insert(100, "{not json");
        File.WriteAllText(run.MetricsFile, string.Join("\n", lines) + "\n{\"step\": 301, \"lo");
        File.WriteAllText(run.AlignmentFile, System.Text.Json.JsonSerializer.Serialize(HealthAnalyzerTests.Align(200, 0.6), RunJson.Options) + "\n");
        var r = RunHealth.Analyze(run, null, null, null, out long skipped);
        Assert.Equal((300, 1, 300, HealthStatus.Healthy, "r"), (r.StepsAnalyzed, r.FirstStep, r.LastStep, r.Status, r.Run));
        Assert.Equal(2, skipped);
        Assert.Equal(0.6, r.Diagonality);

        var last = RunHealth.Analyze(run, 50, null, null, out _);
        Assert.Equal((50, 251), (last.StepsAnalyzed, last.FirstStep));
        Assert.Null(last.Diagonality); // the alignment record at step 200 is before the window
    }
}

public class PlotMatrixTests
{
    [Fact]
    public void ReadJson_ObjectWithRowsAndNaNStrings_Matrix()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{\"alignment\": [[0.5, 0.5, 0], [0, \"NaN\", 1]]}");
            var m = PlotMatrix.ReadJson(path);
            Assert.Equal((2, 3), (m.Rows, m.Columns));
            Assert.True(float.IsNaN(m.Values[4]));
            File.WriteAllText(path, "[1, 2, 3]");
            Assert.Equal((1, 3), (PlotMatrix.ReadJson(path).Rows, PlotMatrix.ReadJson(path).Columns));
            File.WriteAllText(path, "[[1, 2], [3]]");
            Assert.Contains("row 1 has 1 values, row 0 has 2", Assert.Throws<FormatException>(() => PlotMatrix.ReadJson(path)).Message);
            File.WriteAllText(path, "[[1, true]]");
            Assert.Contains("row 0, column 1 is not a number", Assert.Throws<FormatException>(() => PlotMatrix.ReadJson(path)).Message);
            File.WriteAllText(path, "{oops");
            Assert.Contains("not valid JSON", Assert.Throws<FormatException>(() => PlotMatrix.ReadJson(path)).Message);
        }
        finally { File.Delete(path); }
    }
}
