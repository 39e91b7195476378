using System.Management.Automation;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Commands.Engine;

/// <summary>
/// File-system paths for the cmdlets. The current location is taken as a provider path: on a PowerShell drive
/// (<c>TestDrive:</c>, <c>New-PSDrive</c>) <c>CurrentFileSystemLocation.Path</c> is "TD:/", which .NET cannot open.
/// </summary>
internal static class CmdletPaths
{
    /// <summary>The current directory as a file-system path.</summary>
    public static string CurrentDirectory(this PSCmdlet cmdlet) => cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    /// <summary>A parameter's path resolved against the current location (PowerShell drives included), or null.</summary>
    public static string? ProviderPathOrNull(this PSCmdlet cmdlet, string? path) =>
        path is null ? null : cmdlet.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>The runs root: -RunsRoot, else $env:TACOTRON_RUNS, else ./runs (<see cref="RunLocator.RunsRoot"/>).</summary>
    public static string RunsRootPath(this PSCmdlet cmdlet, string? runsRoot) =>
        RunLocator.RunsRoot(cmdlet.ProviderPathOrNull(runsRoot), cmdlet.CurrentDirectory());

    /// <summary>A run by name (under the runs root) or by path (<see cref="RunLocator.Resolve"/>).</summary>
    public static RunDirectory ResolveRun(this PSCmdlet cmdlet, string run, string? runsRoot) =>
        RunLocator.Resolve(run, cmdlet.ProviderPathOrNull(runsRoot), cmdlet.CurrentDirectory());

    /// <summary>
    /// The source and destination of a file conversion (import, export): the source must exist (else CheckpointNotFound),
    /// the destination — given, or the source with <paramref name="extension"/> — must not, unless <paramref name="force"/>
    /// (else DestinationExists). Writes the error and returns false when either does not hold.
    /// </summary>
    public static bool TryConversionPaths(this PSCmdlet cmdlet, string path, string? destination, string extension, bool force, string what, out string source, out string target)
    {
        source = cmdlet.GetUnresolvedProviderPathFromPSPath(path);
        target = "";
        if (!File.Exists(source))
        {
            cmdlet.WriteError(new ErrorRecord(new FileNotFoundException($"{what} '{source}' does not exist.", source), "CheckpointNotFound", ErrorCategory.ObjectNotFound, source));
            return false;
        }
        target = destination is null ? System.IO.Path.ChangeExtension(source, extension) : cmdlet.GetUnresolvedProviderPathFromPSPath(destination);
        if (File.Exists(target) && !force)
        {
            cmdlet.WriteError(new ErrorRecord(new IOException($"'{target}' exists; use -Force to overwrite it."), "DestinationExists", ErrorCategory.ResourceExists, target));
            return false;
        }
        return true;
    }

    /// <summary><see cref="ResolveRun"/>, writing RunNotFound (or the locator's other error) as a non-terminating error.</summary>
    public static bool TryResolveRun(this PSCmdlet cmdlet, string run, string? runsRoot, out RunDirectory directory)
    {
        try
        {
            directory = cmdlet.ResolveRun(run, runsRoot);
            return true;
        }
        catch (RunDataException e)
        {
            cmdlet.WriteError(new ErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, run));
            directory = null!;
            return false;
        }
    }
}
