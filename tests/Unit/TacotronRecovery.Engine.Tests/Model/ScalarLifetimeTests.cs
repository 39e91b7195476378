using System.Reflection;
using TacotronRecovery.Engine.Model;
using TacotronRecovery.Engine.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>
/// No TorchSharp Scalar in the engine can be finalized while libtorch reads it (docs/engine.md, "Temporary Scalars"):
/// the engine's compiled IL is read for temporary Scalars, in its own code and in the TorchSharp methods it calls.
/// </summary>
public sealed class ScalarLifetimeTests
{
    private static readonly Assembly Engine = typeof(Scalars).Assembly;

    private static Assembly[] Libraries => Engine.GetReferencedAssemblies()
        .Where(a => a.Name!.StartsWith("TorchSharp", StringComparison.Ordinal))
        .Select(Assembly.Load)
        .ToArray();

    [Fact]
    public void EngineIl_HasNoTemporaryScalar()
    {
        var findings = ScalarLifetimeAnalyzer.Analyze(Engine, Libraries);
        Assert.True(findings.Count == 0,
            $"{findings.Count} temporary Scalar(s) that the GC may free while libtorch reads them. Pass Model/Scalars.cs " +
            "constants, or keep a variable one with `using var s = value.ToScalar();` (docs/engine.md):\n" +
            string.Join("\n", findings));
    }

    [Fact]
    public void Analyzer_OnKnownPatterns_FlagsTheUnsafeAndPassesTheSafe()
    {
        // The analyzer must not pass everything: it reads this class's own methods.
        var self = typeof(Samples);
        var findings = ScalarLifetimeAnalyzer.Analyze(self.Assembly, Libraries)
            .Where(f => f.Method.StartsWith(nameof(Samples) + ".", StringComparison.Ordinal))
            .ToList();
        string[] flagged = findings.Select(f => f.Method[(nameof(Samples).Length + 1)..f.Method.IndexOf('(')]).Distinct().Order().ToArray();
        Assert.Equal(new[] { nameof(Samples.AddTensor), nameof(Samples.Operator), nameof(Samples.Square), nameof(Samples.StepAdam), nameof(Samples.Temporary) }, flagged);
        // The location is the source line (file:line from the PDB).
        var temporary = findings.First(f => f.Method.StartsWith(nameof(Samples) + "." + nameof(Samples.Temporary), StringComparison.Ordinal));
        var colon = temporary.Location.LastIndexOf(':');
        var line = File.ReadLines(temporary.Location[..colon]).ElementAt(int.Parse(temporary.Location[(colon + 1)..]) - 1);
        Assert.Contains("x.mul(f)", line);
    }

    /// <summary>Patterns for the analyzer; never run.</summary>
    private static class Samples
    {
        public static Tensor Temporary(Tensor x, double f) =>
            x.mul(f); // a number converted for the call only
        public static Tensor AddTensor(Tensor x, Tensor y) => x.add(y); // alpha 1 made inside TorchSharp
        public static Tensor Operator(Tensor x, Tensor y) => x + y;
        public static Tensor Square(Tensor x) => x.square();
        public static void StepAdam(Tensor x) => optim.Adam(new[] { new TorchSharp.Modules.Parameter(x) }).step();
        public static Tensor Constant(Tensor x, Tensor y) => x.add(y, Scalars.One);
        public static Tensor Kept(Tensor x, double f)
        {
            using var s = f.ToScalar();
            return x.mul(s);
        }

        public static Tensor KeptAlive(Tensor x, double f)
        {
            var s = f.ToScalar();
            var y = x.mul(s);
            GC.KeepAlive(s);
            return y;
        }

        public static void SafeAdam(Tensor x) => Optimizers.Create("adam", new[] { new TorchSharp.Modules.Parameter(x) }, 1e-3, 0).step();
    }
}
