<#
.SYNOPSIS
    kill -9 soak: SIGKILLs the engine and, separately, the supervisor of one tiny detached run at random moments,
    resumes after each kill, then checks that nothing was lost (docs/robustness.md).
.DESCRIPTION
    One tiny run (tests/Pester/TinyRun.ps1: a step takes milliseconds, a checkpoint every 2 steps, so a good share of
    the engine's time is spent writing checkpoints, the manifest and run.json, and random kills land in those writes)
    and no fault (a NaN stretch kept engines killed every few seconds from ever passing it, so no checkpoint became
    good; kills during a rollback are not covered). Each round waits for a live engine, waits a random 0-4 s,
    then kills, at random:
      engine      the engine only; the supervisor restarts it (its own restart: --resume --restarted)
      supervisor  the supervisor, then the orphaned engine 0-1.5 s later; Start-TacotronTraining -Resume -Detached
      both        the engine, then the supervisor 0-0.4 s later while it records the death and decides;
                  Start-TacotronTraining -Resume -Detached
    The last round kills both and checks the dead run (the worst case), then resumes once more, lets it train and
    stops it gracefully, and checks again:
      - every checkpoint in the manifest exists and verifies (size and SHA-256, Get-TacotronCheckpoint -Verify);
      - the newest checkpoint is at most one checkpoint interval behind the last step reached, the newest good one
        at most an interval plus the confirmation window (recovery.spike_persist_steps) plus the 3 healthy steps a
        checkpoint needs to count as good;
      - the current timeline of metrics.jsonl (JsonLines.ReadCurrent) has every step from 1 to the last step reached,
        and each place where the file's steps go back is explained by a Resumed event at the step before it;
      - no temporary file of a killed writer is left once an engine has started again; run.json reads.
    Only processes of this run are signalled: the pids in its own engine.lock and supervisor.lock, checked against
    /proc/<pid>/cmdline naming the run folder. Linux only.
.PARAMETER ModulePath
    The built module (default: out/module/TacotronRecovery of this repository).
.PARAMETER WorkDir
    Folder for the run (default: a new temporary folder, removed afterwards unless -Keep).
.PARAMETER Kills
    Stop after this many kill rounds. Default 12.
.PARAMETER Minutes
    Stop starting rounds after this many minutes. Default 2.
.PARAMETER Seed
    Seed of the random moments and victims (default: random; printed, so a failing soak can be replayed).
.PARAMETER WriteDelayMs
    Widens each atomic write of the run (checkpoint, manifest, run.json, recovery state) by this pause between its
    complete temporary file and the rename (TACOTRON_TEST_WRITE_DELAY_MS, a test hook), so that kills land inside
    writes often. Default 100; 0 for none.
.PARAMETER Keep
    Keep the run folder.
.EXAMPLE
    dotnet pwsh tools/soak/kill9.ps1 -Kills 20 -Minutes 3
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [string] $WorkDir,
    [int] $Kills = 12,
    [double] $Minutes = 2,
    [int] $Seed = (Get-Random -Maximum 1000000),
    [int] $WriteDelayMs = 100,
    [switch] $Keep
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if (-not $IsLinux) { throw 'The kill -9 soak needs Linux (SIGKILL, /proc).' }
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
if (-not $ModulePath) { $ModulePath = Join-Path $repo 'out/module/TacotronRecovery' }
Import-Module $ModulePath -Force
. (Join-Path $repo 'tests/Pester/TinyRun.ps1')

$ownWorkDir = -not $WorkDir
if ($ownWorkDir) { $WorkDir = Join-Path ([IO.Path]::GetTempPath()) "tacotron-kill9-$Seed-$PID" }
New-Item -ItemType Directory -Force -Path $WorkDir | Out-Null
$runs = Join-Path $WorkDir 'runs'
$runDir = Join-Path $runs 'kill9'
$interval = 2          # checkpoint_every_steps of the tiny config
$confirm = 2           # recovery.spike_persist_steps below
$config = New-TinyConfig (Join-Path $WorkDir 'kill9.yaml') -MaxSteps 1000000 -ValidationEverySteps 10 -TensorBoard $false -Extra @"
recovery:
  max_restarts: 1000000
  spike_persist_steps: $confirm
"@
$rng = [Random]::new($Seed)
$clock = [Diagnostics.Stopwatch]::StartNew()
$failures = [Collections.Generic.List[string]]::new()
$figures = [ordered]@{ EngineKills = 0; SupervisorKills = 0; Resumes = 0; SupervisorRestarts = 0; KilledDuringWrite = 0; OrphanEngines = 0 }

function Get-LockPid([string] $File) {
    try { (Get-Content $File -Raw -ErrorAction Stop | ConvertFrom-Json).pid } catch { $null }
}

function Test-RunProcess([object] $ProcessId) {
    # Alive (not a zombie) and one of this run's processes (its command line names the run folder or its config).
    if (-not $ProcessId) { return $false }
    try {
        $stat = [IO.File]::ReadAllText("/proc/$ProcessId/stat")
        if ($stat.Substring($stat.LastIndexOf(')') + 2, 1) -in 'Z', 'X') { return $false }
        $cmd = [IO.File]::ReadAllText("/proc/$ProcessId/cmdline").Replace([char]0, ' ')
        return $cmd.Contains($runDir) -or $cmd.Contains($config)
    } catch { return $false }
}

function Stop-RunProcess([object] $ProcessId) {
    if (Test-RunProcess $ProcessId) { & /usr/bin/kill -s KILL -- $ProcessId 2>$null; return $true }
    $false
}

function Wait-Until([scriptblock] $Condition, [double] $Seconds) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 50
    }
    [bool](& $Condition)
}

function Get-TempLeftover {
    # Temporary files of the run's atomic writers: checkpoints (step-N.ckpt.tmp-PID) and AtomicFile (.NAME.PID.GUID.tmp).
    @(Get-ChildItem -LiteralPath $runDir, (Join-Path $runDir 'checkpoints') -Force -File -ErrorAction SilentlyContinue |
        Where-Object { $_.Name -match '\.tmp-\d+$|^\..+\.\d+\.[0-9a-f]{32}\.tmp$' })
}

function Get-StartedCount {
    $events = Join-Path $runDir 'events.jsonl'
    if (-not (Test-Path -LiteralPath $events)) { return 0 }
    @(Select-String -LiteralPath $events -Pattern '"TrainingStarted"' -SimpleMatch).Count
}

function Start-Resume {
    $script:figures.Resumes++
    try {
        Start-TacotronTraining -Config $config -RunsRoot $runs -Run kill9 -Resume -Detached | Out-Null
    } catch {
        $failures.Add("Start-TacotronTraining -Resume failed: $($_.FullyQualifiedErrorId): $_")
    }
}

function Test-Run([string] $When, [bool] $AfterStart) {
    $m = [TacotronRecovery.Core.Runs.RunDirectory]::new($runDir)
    $stats = [TacotronRecovery.Core.Runs.JsonLinesStats]::new()
    $steps = @([TacotronRecovery.Core.Runs.JsonLines]::ReadCurrent[TacotronRecovery.Core.Metrics.StepMetrics]($m.MetricsFile, $stats, $null) | ForEach-Object Step)
    $last = if ($steps) { $steps[-1] } else { 0 }
    for ($i = 0; $i -lt $steps.Count; $i++) {
        if ($steps[$i] -ne $i + 1) { $failures.Add("${When}: metrics.jsonl's current timeline has step $($steps[$i]) at position $($i + 1) (a gap or a duplicate)."); break }
    }
    # Where the file's steps go back, a Resumed event must say from which step.
    $raw = @([TacotronRecovery.Core.Runs.JsonLines]::Read[TacotronRecovery.Core.Metrics.StepMetrics]($m.MetricsFile, $null, 0) | ForEach-Object Step)
    $resumedAt = @([TacotronRecovery.Core.Runs.JsonLines]::Read[TacotronRecovery.Core.Metrics.TrainingEvent]($m.EventsFile, $null, 0) |
        Where-Object Code -EQ 'Resumed' | ForEach-Object Step)
    for ($i = 1; $i -lt $raw.Count; $i++) {
        if ($raw[$i] -le $raw[$i - 1] -and ($raw[$i] - 1) -notin $resumedAt) {
            $failures.Add("${When}: metrics.jsonl goes back from step $($raw[$i - 1]) to $($raw[$i]) with no Resumed event at step $($raw[$i] - 1).")
        }
    }
    $checkpoints = @()
    try { $checkpoints = @(Get-TacotronCheckpoint -Run $runDir -Verify -ErrorAction Stop) } catch { $failures.Add("${When}: Get-TacotronCheckpoint -Verify failed: $($_.FullyQualifiedErrorId): $_") }
    # A file the manifest does not list (a kill after the file's rename, before the manifest recorded it; the engine forgets
    # an entry before rewriting its file) is never chosen for a resume or rollback: counted, not a failure.
    $unlisted = @($checkpoints | Where-Object Verified -EQ 'NotInManifest')
    $checkpoints = @($checkpoints | Where-Object Verified -NE 'NotInManifest')
    foreach ($c in $checkpoints | Where-Object Verified -NE 'Verified') {
        $failures.Add("${When}: checkpoint $([IO.Path]::GetFileName($c.Path)) in the manifest: $($c.Verified).")
    }
    $newest = ($checkpoints | Measure-Object Step -Maximum).Maximum
    $newestGood = ($checkpoints | Where-Object Good | Measure-Object Step -Maximum).Maximum
    if ($null -eq $newest -or $last - $newest -gt $interval) { $failures.Add("${When}: newest checkpoint step $newest, last step ${last}: more than $interval behind.") }
    if ($null -eq $newestGood -or $last - $newestGood -gt $interval + $confirm + 3) { $failures.Add("${When}: newest good checkpoint step $newestGood, last step ${last}: more than $($interval + $confirm + 3) behind.") }
    try { [TacotronRecovery.Core.Runs.RunStateStore]::Read($m.StateFile) | Out-Null } catch { $failures.Add("${When}: run.json: $($_.Exception.InnerException.Message)") }
    $left = @(Get-TempLeftover)
    if ($AfterStart -and $left) { $failures.Add("${When}: temporary files left by killed writers: $($left.Name -join ', ').") }
    [pscustomobject]@{ When = $When; LastStep = $last; Newest = $newest; NewestGood = $newestGood; Checkpoints = $checkpoints.Count; Unlisted = $unlisted.Count; Superseded = $stats.Superseded; Skipped = $stats.Skipped; TempFiles = $left.Count }
}

Write-Host "kill9 soak: seed $Seed, up to $Kills kills or $Minutes min, writes widened by $WriteDelayMs ms, run $runDir"
$savedDelay = $env:TACOTRON_TEST_WRITE_DELAY_MS
$env:TACOTRON_TEST_WRITE_DELAY_MS = "$WriteDelayMs"
Start-TacotronTraining -Config $config -RunsRoot $runs -Run kill9 -Detached | Out-Null
$round = 0
$lastEngine = $null
$started = 0
$checks = @()
try {
    while ($round -lt $Kills -and $clock.Elapsed.TotalMinutes -lt $Minutes) {
        $round++
        $final = $round -eq $Kills -or $clock.Elapsed.TotalMinutes -ge $Minutes * 0.9
        # A new live engine that has started training (its TrainingStarted event); the kill then comes 0-4 s into it.
        $up = Wait-Until {
            $e = Get-LockPid (Join-Path $runDir 'engine.lock')
            $e -and $e -ne $lastEngine -and (Test-RunProcess $e) -and (Get-StartedCount) -gt $started
        } 90
        if (-not $up) { $failures.Add("round ${round}: no engine came up within 90 s."); break }
        $started = Get-StartedCount
        $engine = Get-LockPid (Join-Path $runDir 'engine.lock')
        $supervisor = Get-LockPid (Join-Path $runDir 'supervisor.lock')
        Start-Sleep -Milliseconds ($rng.Next(0, 4000))
        $victim = if ($final) { 'both' } else { @('engine', 'engine', 'engine', 'supervisor', 'both')[$rng.Next(0, 5)] }
        $tempBefore = @(Get-TempLeftover).Count
        switch ($victim) {
            'engine' {
                if (Stop-RunProcess $engine) { $figures.EngineKills++ }
            }
            'supervisor' {
                if (Stop-RunProcess $supervisor) { $figures.SupervisorKills++ }
                Start-Sleep -Milliseconds ($rng.Next(0, 1500))
                if (Stop-RunProcess $engine) { $figures.EngineKills++ }
            }
            'both' {
                if (Stop-RunProcess $engine) { $figures.EngineKills++ }
                Start-Sleep -Milliseconds ($rng.Next(0, 400))
                if (Stop-RunProcess $supervisor) { $figures.SupervisorKills++ }
            }
        }
        $lastEngine = $engine
        if (@(Get-TempLeftover).Count -gt $tempBefore) { $figures.KilledDuringWrite++ }
        if ($final) { break }
        if ($victim -eq 'engine') {
            # The supervisor's own restart; when it was itself dead by then, resume as a user would.
            if (-not (Test-RunProcess $supervisor)) { Start-Resume } else { $figures.SupervisorRestarts++ }
        } else {
            Wait-Until { -not (Test-RunProcess $engine) -and -not (Test-RunProcess $supervisor) } 10 | Out-Null
            # A supervisor killed just after it restarted the engine leaves that new engine orphaned, holding the run
            # (seen: it then trained no step for 90 s and the resume below was refused). Kill it as Stop-TacotronTraining
            # -Force would; counted.
            # It may not hold engine.lock yet, so look for it in /proc (its command line names this run's config).
            foreach ($d in [IO.Directory]::EnumerateDirectories('/proc')) {
                $orphan = [IO.Path]::GetFileName($d)
                if ($orphan -match '^\d+$' -and $orphan -ne "$PID" -and (Stop-RunProcess ([int]$orphan))) { $figures.OrphanEngines++; $figures.EngineKills++ }
            }
            Start-Resume
        }
    }
    Wait-Until { -not (Test-RunProcess (Get-LockPid (Join-Path $runDir 'engine.lock'))) -and -not (Test-RunProcess (Get-LockPid (Join-Path $runDir 'supervisor.lock'))) } 10 | Out-Null
    $checks += Test-Run 'after the last kill' $false

    # Once more: resume, train a little, stop gracefully.
    Start-Resume
    $before = $checks[-1].LastStep
    # Enough steps for a checkpoint saved after the resume to count as good: 3 healthy steps, the interval, the confirmation.
    $more = $interval + $confirm + 3 + 2
    $resumedOk = Wait-Until { ([TacotronRecovery.Core.Runs.RunSummary]::LastStep([TacotronRecovery.Core.Runs.RunDirectory]::new($runDir))) -ge $before + $more } 120
    if (-not $resumedOk) { $failures.Add("final resume: the run did not train $more more steps within 120 s.") }
    try {
        $stopped = Stop-TacotronTraining -Run kill9 -RunsRoot $runs -TimeoutSeconds 60 -PassThru -ErrorAction Stop
        if ($stopped.Status -ne 'Stopped') { $failures.Add("final stop: status $($stopped.Status).") }
    } catch { $failures.Add("final stop failed: $_") }
    $checks += Test-Run 'after the final resume and stop' $true
} finally {
    foreach ($f in 'engine.lock', 'supervisor.lock') { Stop-RunProcess (Get-LockPid (Join-Path $runDir $f)) | Out-Null }
    $env:TACOTRON_TEST_WRITE_DELAY_MS = $savedDelay
}

$events = @([TacotronRecovery.Core.Runs.JsonLines]::Read[TacotronRecovery.Core.Metrics.TrainingEvent]((Join-Path $runDir 'events.jsonl'), $null, 0))
$result = [pscustomobject]@{
    Seed = $Seed
    Kills = $figures.EngineKills + $figures.SupervisorKills
    EngineKills = $figures.EngineKills
    SupervisorKills = $figures.SupervisorKills
    Rounds = $round
    Resumes = $figures.Resumes
    SupervisorRestarts = $figures.SupervisorRestarts
    KilledDuringWrite = $figures.KilledDuringWrite
    OrphanEngines = $figures.OrphanEngines
    Rollbacks = @($events | Where-Object Code -EQ 'Rollback').Count
    ResumedEvents = @($events | Where-Object Code -EQ 'Resumed').Count
    LastStep = $checks[-1].LastStep
    Superseded = $checks[-1].Superseded
    Checks = $checks
    Failures = $failures.ToArray()
    Seconds = [math]::Round($clock.Elapsed.TotalSeconds)
    Machine = "$((Get-Content /proc/cpuinfo | Select-String '^model name' | Select-Object -First 1).Line -replace '^model name\s*:\s*', ''), $([Environment]::ProcessorCount) cores"
    Date = [DateTimeOffset]::UtcNow.ToString('yyyy-MM-dd HH:mm') + ' UTC'
    RunDir = $runDir
}
if ($ownWorkDir -and -not $Keep -and $failures.Count -eq 0) { Remove-Item -LiteralPath $WorkDir -Recurse -Force -ErrorAction SilentlyContinue }
$result
