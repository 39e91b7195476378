<#
.SYNOPSIS
    Loaded soak: several fault-free detached trainings at once, on a machine kept busy by other processes, with GC
    pressure and stop requests at random moments; reports every engine death.
.DESCRIPTION
    Starts -Runs trainings (at most -Parallel at a time) on the bundled demo corpus with no faults configured (-Model
    tiny: tests/Pester/TinyRun.ps1's model, checkpoints every 2 steps; -Model demo: the demo preset, batch 16,
    checkpoints every 10 steps), while -StressProcesses busy loops load the CPU. The engines run with a small gen-0 budget
    (DOTNET_GCgen0size) and, with -GcStressMilliseconds, a thread forcing full collections (TACOTRON_GC_STRESS_MS,
    Engine/Runtime/GcStress.cs): a TorchSharp object finalized while libtorch still uses it then fails within seconds.
    A share of the runs (-StopFraction) gets Stop-TacotronTraining at a random moment.
    Reports, per run and in total: engine deaths (exit code and the stderr tail from logs/engine-<n>.stderr.log),
    restarts (every restart is unexpected: no faults are configured) and runs whose final status is not the expected
    one (Completed, or Stopped for a stopped run). Writes soak.json next to the runs. Exit code: 0 when nothing died
    and every run ended as expected, else 1.
.EXAMPLE
    dotnet pwsh build.ps1 soak
.EXAMPLE
    dotnet pwsh tools/soak/Invoke-Soak.ps1 -ModulePath out/module/TacotronRecovery -Runs 8 -Parallel 4 -MaxSteps 80
#>
[CmdletBinding()]
param(
    # The built module (build.ps1 build).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/module/TacotronRecovery'),
    # Where the runs go; default out/soak/<UTC time>.
    [string] $RunsRoot,
    [ValidateSet('tiny', 'demo')]
    [string] $Model = 'tiny',
    [int] $Runs = 6,
    [int] $Parallel = 3,
    [int] $MaxSteps = 100,
    # CPU busy loops started next to the trainings (other processes).
    [int] $StressProcesses = 2,
    # Period of the forced full collections in the engines; 0 = none (only the small gen-0 budget).
    [int] $GcStressMilliseconds = 20,
    # DOTNET_GCgen0size of the engines (hex bytes); empty = the runtime's default.
    [string] $Gen0Size = '0x40000',
    # Share of the runs that get a stop request, at a random moment after their first step.
    [double] $StopFraction = 0.34,
    [int] $Seed = 1,
    [int] $TimeoutMinutes = 20
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
. (Join-Path $repo 'tests/Pester/TinyRun.ps1')
Import-Module (Resolve-Path $ModulePath).Path -Force
if (-not $RunsRoot) { $RunsRoot = Join-Path $repo ('out/soak/' + [DateTime]::UtcNow.ToString('yyyyMMdd-HHmmss')) }
New-Item -ItemType Directory -Force -Path $RunsRoot | Out-Null
$RunsRoot = (Resolve-Path $RunsRoot).Path
$random = [Random]::new($Seed)

# The engines inherit these from this process (Start-TacotronTraining starts the supervisor, which starts them).
$saved = @{ DOTNET_GCgen0size = $env:DOTNET_GCgen0size; TACOTRON_GC_STRESS_MS = $env:TACOTRON_GC_STRESS_MS }
$env:DOTNET_GCgen0size = if ($Gen0Size) { $Gen0Size } else { $null }
$env:TACOTRON_GC_STRESS_MS = if ($GcStressMilliseconds -gt 0) { "$GcStressMilliseconds" } else { $null }

function Read-Json([string] $Path) {
    if (-not (Test-Path $Path)) { return $null }
    try { Get-Content $Path -Raw | ConvertFrom-Json } catch { $null }
}

function Read-Events([string] $RunDir) {
    $file = Join-Path $RunDir 'events.jsonl'
    if (-not (Test-Path $file)) { return @() }
    @(Get-Content $file | Where-Object { $_ } | ForEach-Object { try { $_ | ConvertFrom-Json } catch { } })
}

# The lines of a dead engine's stderr that say what killed it: the first exception or abort message and the frames
# after it (the event's stderr_tail holds the last lines, often only the bottom of a stack trace).
function Get-DeathExcerpt([string] $Log, [string[]] $Tail) {
    $lines = if ($Log -and (Test-Path $Log)) { @(Get-Content $Log) } else { @($Tail) }
    $at = -1
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match 'Unhandled exception|Exception:|terminate called|Expected .* to be|Fatal error|Aborted|Segmentation') { $at = $i; break }
    }
    $pick = if ($at -ge 0) { $lines[$at..([Math]::Min($lines.Count - 1, $at + 4))] } else { $lines | Select-Object -Last 4 }
    @($pick | ForEach-Object { if ($_.Length -gt 220) { $_.Substring(0, 220) + '…' } else { $_ } })
}

function Test-RunOver($r) {
    $state = Read-Json (Join-Path $r.Dir 'run.json')
    if (-not $state -or $state.status -notin 'Completed', 'Stopped', 'Failed', 'Killed') { return $false }
    $lock = Read-Json (Join-Path $r.Dir 'supervisor.lock')
    -not ($lock -and (Get-Process -Id $lock.pid -ErrorAction SilentlyContinue))
}

$stress = @()
$pwsh = Join-Path $PSHOME 'pwsh'
for ($i = 0; $i -lt $StressProcesses; $i++) {
    $stress += Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-Command', 'while ($true) { }' -PassThru
}

$clock = [Diagnostics.Stopwatch]::StartNew()
$pending = [Collections.Generic.Queue[object]]::new()
for ($i = 1; $i -le $Runs; $i++) {
    $stop = $random.NextDouble() -lt $StopFraction
    $pending.Enqueue([pscustomobject]@{
        Name = 'soak-{0:d2}' -f $i; Dir = Join-Path $RunsRoot ('soak-{0:d2}' -f $i)
        # A stop request this many steps into the run (a random moment of its training).
        StopAtStep = if ($stop) { $random.Next(1, [Math]::Max(2, $MaxSteps)) } else { $null }
        StopSent = $null; Started = $null; Ended = $null
    })
}
$active = [Collections.Generic.List[object]]::new()
$done = [Collections.Generic.List[object]]::new()
try {
    while ($pending.Count -gt 0 -or $active.Count -gt 0) {
        if ($clock.Elapsed.TotalMinutes -gt $TimeoutMinutes) { Write-Warning "Soak timed out after $TimeoutMinutes minutes."; break }
        while ($active.Count -lt $Parallel -and $pending.Count -gt 0) {
            $r = $pending.Dequeue()
            $config = Join-Path $RunsRoot "$($r.Name).yaml"
            if ($Model -eq 'tiny') {
                New-TinyConfig $config -MaxSteps $MaxSteps -ValidationEverySteps 20 -TensorBoard $false | Out-Null
            }
            else {
                "data:`n  path: $Corpus`nmodel:`n  preset: demo`ntraining:`n  max_steps: $MaxSteps`n  batch_size: 16`n  threads: 1`n  validation_every_steps: 50`n  validation_sentences: 2`n  checkpoint_every_steps: 10`n  alignment_every_steps: 10`n  tensor_board: false`n" |
                    Set-Content -Path $config
            }
            Start-TacotronTraining -Config $config -RunsRoot $RunsRoot -Run $r.Name -Detached | Out-Null
            $r.Started = $clock.Elapsed.TotalSeconds
            $active.Add($r)
        }
        foreach ($r in @($active)) {
            if ($null -ne $r.StopAtStep -and $null -eq $r.StopSent) {
                $m = Join-Path $r.Dir 'metrics.jsonl'
                $steps = if (Test-Path $m) { @(Get-Content $m).Count } else { 0 }
                if ($steps -ge $r.StopAtStep) {
                    $r.StopSent = $steps
                    Stop-TacotronTraining -Run $r.Name -RunsRoot $RunsRoot -TimeoutSeconds 120 -WarningAction SilentlyContinue | Out-Null
                }
            }
            if (Test-RunOver $r) {
                $r.Ended = $clock.Elapsed.TotalSeconds
                $active.Remove($r) | Out-Null
                $done.Add($r)
            }
        }
        Start-Sleep -Milliseconds 250
    }
}
finally {
    foreach ($p in $stress) { Stop-Process -Id $p.Id -Force -ErrorAction SilentlyContinue }
    foreach ($k in $saved.Keys) { Set-Item "env:$k" -Value $saved[$k] -ErrorAction SilentlyContinue; if (-not $saved[$k]) { Remove-Item "env:$k" -ErrorAction SilentlyContinue } }
}

$report = foreach ($r in @($done) + @($active)) {
    $state = Read-Json (Join-Path $r.Dir 'run.json')
    $events = Read-Events $r.Dir
    # Every engine death is in one event with its exit code: Restart, Exhausted, or a stop that found the engine dead.
    $deaths = @(foreach ($e in $events) {
        $data = Get-Member -InputObject $e -Name data -MemberType NoteProperty
        if (-not $data -or -not $e.data -or -not (Get-Member -InputObject $e.data -Name exit_code)) { continue }
        [pscustomobject]@{
            Code = $e.code; Step = $e.step; ExitCode = $e.data.exit_code
            ResumeStep = if (Get-Member -InputObject $e.data -Name resume_step) { $e.data.resume_step } else { $null }
            StderrLog = $e.data.stderr_log
            Excerpt = Get-DeathExcerpt $e.data.stderr_log @($e.data.stderr_tail)
        }
    })
    $expected = if ($null -ne $r.StopSent) { 'Stopped' } else { 'Completed' }
    $status = if ($state) { $state.status } else { 'none' }
    # A stop that arrives after the last step finds a completed run: that is as good as stopped.
    $asExpected = $status -eq $expected -or ($expected -eq 'Stopped' -and $status -eq 'Completed')
    $m = Join-Path $r.Dir 'metrics.jsonl'
    [pscustomobject]@{
        Run = $r.Name; StopAtStep = $r.StopSent; Expected = $expected; Status = $status; AsExpected = $asExpected
        Steps = if (Test-Path $m) { @(Get-Content $m).Count } else { 0 }
        Restarts = @($events | Where-Object code -eq 'Restart').Count
        Deaths = $deaths
        Seconds = if ($r.Ended) { [Math]::Round($r.Ended - $r.Started, 1) } else { $null }
    }
}

$deathCount = ($report | ForEach-Object { $_.Deaths.Count } | Measure-Object -Sum).Sum
$restartCount = ($report | Measure-Object -Property Restarts -Sum).Sum
$wrong = @($report | Where-Object { -not $_.AsExpected })
$summary = [pscustomobject]@{
    Date = [DateTime]::UtcNow.ToString('u'); Machine = "$([Environment]::MachineName), $([Environment]::ProcessorCount) cores, $((Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String -Pattern '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', '')"
    Model = $Model; Runs = @($report).Count; Parallel = $Parallel; MaxSteps = $MaxSteps; StressProcesses = $StressProcesses
    GcStressMilliseconds = $GcStressMilliseconds; Gen0Size = $Gen0Size
    Stopped = @($report | Where-Object { $null -ne $_.StopAtStep }).Count
    EngineDeaths = [int]$deathCount; ExitCodes = (@($report | ForEach-Object { $_.Deaths } | ForEach-Object ExitCode) | Sort-Object | Get-Unique) -join ','
    Restarts = [int]$restartCount; NotAsExpected = $wrong.Count; Minutes = [Math]::Round($clock.Elapsed.TotalMinutes, 1)
    RunsRoot = $RunsRoot
}
[pscustomobject]@{ Summary = $summary; Runs = $report } | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $RunsRoot 'soak.json')

$report | Format-Table Run, Expected, Status, StopAtStep, Steps, Restarts, @{ n = 'Deaths'; e = { $_.Deaths.Count } }, Seconds -AutoSize | Out-Host
foreach ($r in $report) {
    foreach ($d in $r.Deaths) {
        Write-Host "$($r.Run): engine died at step $($d.Step) with exit code $($d.ExitCode) ($($d.Code)$(if ($null -ne $d.ResumeStep) { ", resumed from step $($d.ResumeStep)" })); $($d.StderrLog):"
        $d.Excerpt | ForEach-Object { Write-Host "    $_" }
    }
}
$summary | Format-List | Out-Host
if ($deathCount -gt 0 -or $wrong.Count -gt 0) { exit 1 }
