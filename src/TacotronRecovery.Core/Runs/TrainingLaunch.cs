using System.Globalization;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Runs;

/// <summary>What Start-TacotronTraining was asked for, with paths already resolved by the caller.</summary>
public sealed record TrainingRequest
{
    /// <summary>Config file, or null for the defaults.</summary>
    public string? Config { get; init; }
    /// <summary>Dataset folder or filelist.</summary>
    public string? Dataset { get; init; }
    /// <summary>Model preset.</summary>
    public string? Preset { get; init; }
    /// <summary>Run name, or a run folder path (rooted, or relative to the current directory); null: the config's name.</summary>
    public string? Run { get; init; }
    /// <summary>The runs root (resolved).</summary>
    public string RunsRoot { get; init; } = "";
    /// <summary>Overrides training.max_steps.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Device.</summary>
    public string? Device { get; init; }
    /// <summary>Torch threads.</summary>
    public int? Threads { get; init; }
    /// <summary>Checkpoint to start from.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Resume from the last good checkpoint.</summary>
    public bool Resume { get; init; }
    /// <summary>Run in the background (the engine writes nothing to stdout).</summary>
    public bool Detached { get; init; }
    /// <summary>An external training command (program first, <c>{checkpoint}</c> where a checkpoint path goes) to supervise instead of our engine.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>External command: seconds a stop request is given before the process group gets SIGTERM (null: the supervisor's default).</summary>
    public int? GraceSeconds { get; init; }
    /// <summary>External command: the folder it runs in (relative paths in its arguments resolve there): the caller's current location.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>
/// A training start prepared: the run folder the engine will use and the <c>supervise</c> command line. The config is
/// read here too, so that a missing or broken file fails before an engine starts.
/// </summary>
/// <param name="Run">The run directory.</param>
/// <param name="Arguments">The engine's arguments, verb first.</param>
public sealed record TrainingLaunch(RunDirectory Run, IReadOnlyList<string> Arguments)
{
    /// <summary>Prepares <paramref name="request"/>.</summary>
    /// <exception cref="FileNotFoundException">The config file does not exist.</exception>
    /// <exception cref="ConfigException">The config is invalid.</exception>
    /// <exception cref="ArgumentException">An empty command.</exception>
    /// <exception cref="RunDataException">CommandCorrupt: -Resume of an external run whose command.json is unusable.</exception>
    public static TrainingLaunch Prepare(TrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Config is not null && !File.Exists(request.Config))
            throw new FileNotFoundException($"Config file '{request.Config}' does not exist.", request.Config);
        // The run folder is the one the engine will use: the config's name, else the file's base name.
        string runName = request.Run ?? ConfigLoader.RunNameFor(ConfigLoader.LoadOrDefault(request.Config), request.Config);
        var args = new List<string> { "supervise" };
        void Add(string key, string? value) { if (value is not null) { args.Add("--" + key); args.Add(value); } }
        var run = new RunDirectory(Path.IsPathRooted(runName) ? runName : Path.Combine(request.RunsRoot, runName));
        // -Resume of a run started with -Command resumes that command.
        var command = request.Command ?? (request.Resume ? ExternalCommand.TryLoad(run) : null);
        if (command is not null)
        {
            if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0])) throw new ArgumentException("The command is empty: give the program first, then its arguments.");
            Add("command", ExternalCommand.ToJson(command));
            Add("grace-seconds", request.GraceSeconds?.ToString(CultureInfo.InvariantCulture));
            Add("working-directory", request.WorkingDirectory);
        }
        Add("config", request.Config);
        Add("dataset", request.Dataset);
        Add("preset", request.Preset);
        Add("runs-root", request.RunsRoot);
        Add("run", runName);
        Add("max-steps", request.MaxSteps?.ToString(CultureInfo.InvariantCulture));
        Add("device", request.Device);
        Add("threads", request.Threads?.ToString(CultureInfo.InvariantCulture));
        Add("checkpoint", request.Checkpoint);
        if (request.Resume) args.Add("--resume");
        if (request.Detached) args.Add("--quiet");
        return new TrainingLaunch(run, args);
    }
}
