using static TorchSharp.torch;

namespace TacotronRecovery.Engine.Model;

/// <summary>
/// Runs work under a fixed torch seed and restores the caller's random stream afterwards, so that seeded work (model
/// initialisation of an import, attention re-initialisation, a diagnosis's prenet dropout) neither depends on nor
/// disturbs the training's stream.
/// </summary>
internal static class SeededRandom
{
    /// <summary>Returns <paramref name="work"/>'s result, computed after <c>manual_seed(<paramref name="seed"/>)</c>.</summary>
    public static T Run<T>(long seed, Func<T> work)
    {
        var state = random.get_rng_state();
        try
        {
            random.manual_seed(seed);
            return work();
        }
        finally
        {
            random.set_rng_state(state);
            state.Dispose();
        }
    }

    /// <summary>Runs <paramref name="work"/> after <c>manual_seed(<paramref name="seed"/>)</c>.</summary>
    public static void Run(long seed, Action work) => Run(seed, () => { work(); return 0; });
}
