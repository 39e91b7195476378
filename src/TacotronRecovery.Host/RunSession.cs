using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Host;

/// <summary>
/// The effective config of an engine verb (file + command-line overrides), its run directory, the run lock and
/// run.json. Command-line options override the file: --dataset → data.path, --preset → model (the preset's
/// dimensions), --max-steps → training.max_steps, --device, --threads.
/// </summary>
public sealed class RunSession : IDisposable
{
    private readonly RunLock _lock;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    private RunSession(TacotronConfig config, RunDirectory run, RunLock runLock)
    {
        Config = config;
        Run = run;
        _lock = runLock;
    }

    /// <summary>Effective configuration.</summary>
    public TacotronConfig Config { get; }
    /// <summary>The run directory.</summary>
    public RunDirectory Run { get; }

    /// <summary>Loads the config, applies overrides, creates and locks the run directory, writes the redacted config copy.</summary>
    public static RunSession Open(Arguments args, string verb)
    {
        var config = LoadConfig(args, out var configPath);
        var run = Locate(args, config, configPath).Create();
        var runLock = RunLock.Acquire(run.LockFile);
        ConfigWriter.WriteRedacted(config with { Name = run.Name }, run.ConfigFile);
        return new RunSession(config with { Name = run.Name }, run, runLock);
    }

    /// <summary>
    /// The run directory: --run as a path, or a name under --runs-root, $TACOTRON_RUNS or the config's runs_root;
    /// without --run, the config's name or file name.
    /// </summary>
    public static RunDirectory Locate(Arguments args, TacotronConfig config, string? configPath)
    {
        var root = args.Get("runs-root") ?? Environment.GetEnvironmentVariable("TACOTRON_RUNS") ?? config.RunsRoot;
        var name = args.Get("run") ?? ConfigLoader.RunNameFor(config, configPath);
        return new RunDirectory(Path.IsPathRooted(name) || name.Contains(Path.DirectorySeparatorChar) ? name : Path.Combine(root, name));
    }

    /// <summary>The config file (if any) with the command-line overrides applied.</summary>
    public static TacotronConfig LoadConfig(Arguments args, out string? configPath)
    {
        configPath = args.Get("config");
        var config = ConfigLoader.LoadOrDefault(configPath);
        if (args.Get("dataset") is { } dataset)
            config = config with { Data = config.Data with { Path = Path.GetFullPath(dataset) } };
        if (args.Get("preset") is { } preset)
            config = config with { Model = ModelOptions.ForPreset(preset) };
        if (args.Int("max-steps") is int maxSteps)
            config = config with { Training = config.Training with { MaxSteps = maxSteps } };
        if (args.Get("device") is { } device)
            config = config with { Training = config.Training with { Device = device } };
        if (args.Int("threads") is int threads)
            config = config with { Training = config.Training with { Threads = threads } };
        return config;
    }

    /// <summary>Writes run.json.</summary>
    public void SetState(RunStatus status, int step, string? message, int? exitCode = null)
    {
        RunStateStore.Write(Run.StateFile, new RunState
        {
            Name = Run.Name, Status = status, Pid = Environment.ProcessId, Host = Environment.MachineName,
            Started = _started, Updated = DateTimeOffset.UtcNow, Step = step, ExitCode = exitCode,
            Message = message, Device = Config.Training.Device,
        });
    }

    /// <summary>Connects attention plots to the sink.</summary>
    public void AttachPlots(RunSink sink)
    {
        sink.PlotAlignment = (path, a, steps, tokens, title) => Plots.Alignment(path, a, steps, tokens, title);
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();
}
