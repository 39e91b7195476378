using TacotronRecovery.Core.Health;
using Xunit.Abstractions;
using static TacotronRecovery.Core.Tests.Health.SyntheticAlignments;

namespace TacotronRecovery.Core.Tests.Health;

/// <summary>The calibration table of docs/metrics.md: every synthetic case at 150 steps × 50 tokens (w = 2).</summary>
public class AlignmentCalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void Calibration_SyntheticCases_OrderedAndWithinDesignBands()
    {
        const int T = 150, N = 50;
        var cases = new (string Name, float[] A, double Min, double Max)[]
        {
            ("sharp diagonal (one-hot)", HardDiagonal(T, N), 0.95, 1.0),
            ("soft diagonal (σ = 1 token)", Gaussian(T, N, 1.0, Linear(T, N)), 0.95, 1.0),
            ("curved sharp monotonic (σ = 0.7)", Gaussian(T, N, 0.7, i => (N - 1) * Math.Pow(i / (T - 1.0), 1.7)), 0.9, 1.0),
            ("smeared (σ = 3 tokens)", Gaussian(T, N, 3.0, Linear(T, N)), 0.45, 0.7),
            ("diagonal + uniform noise (1/3 of the mass)", Noisy(Gaussian(T, N, 1.0, Linear(T, N)), T, N, 0.02, seed: 3), 0.2, 0.8),
            ("random init (noisy uniform)", Noisy(Uniform(T, N), T, N, 0.5, seed: 1), 0.0, 0.05),
            ("uniform", Uniform(T, N), 0.0, 0.05),
            ("stuck on first token", Stuck(T, N, 0), 0.0, 0.1),
            ("reversed", Gaussian(T, N, 0.7, i => (N - 1) - Linear(T, N)(i)), 0.0, 0.1),
        };
        output.WriteLine("| case | Diagonality | band mass | chance | token coverage | FocusRate | Coverage | Monotonicity |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, a, min, max) in cases)
        {
            var s = AlignmentScorer.Score(a, T, N);
            output.WriteLine($"| {name} | {s.Diagonality:0.000} | {s.BandMass:0.000} | {s.ChanceMass:0.000} | {s.TokenCoverage:0.00} | {s.FocusRate:0.000} | {s.Coverage:0.000} | {s.Monotonicity:0.000} |");
            Assert.InRange(s.Diagonality, min, max);
        }
    }
}
