<#
.SYNOPSIS
    The demo: train Tacotron 2 on the bundled corpus, break it, recover it, report.
.DESCRIPTION
    1. Checks the environment and the demo corpus.
    2. Trains the 'demo' preset with samples/demo.yaml, whose fault injection breaks the run on purpose: a NaN storm
       in the mel loss (skipped steps, rollback, safe mode), the engine killed (supervisor restart) and, at the end,
       the attention layers re-initialised (attention collapse).
    3. Runs Invoke-EmergencyRecovery on the broken run: plan with forecast, stages, result. Every stage and the
       outcome are judged on validation: the held-out sentences decoded one at a time, free-running, the gate
       deciding the end (docs/recovery.md); the demo prints the figures that decided it.
    4. Reports: health report with recommendations, metric and attention plots, a synthesised held-out sentence,
       the alerts that were queued (outbox; Telegram when configured).
    Needs the module built (build.ps1 demo builds and imports it).
.PARAMETER Root
    Repository root. Default: the parent of this script's folder.
.PARAMETER RunsRoot
    Where the demo run is written. Default: <Root>/runs.
.PARAMETER RecoverySteps
    Step budget of the emergency recovery. Default 600.
.EXAMPLE
    dotnet pwsh build.ps1 demo
#>
[CmdletBinding()]
param(
    [string] $Root = (Split-Path -Parent $PSScriptRoot),
    [string] $RunsRoot,
    [int] $RecoverySteps = 600
)
$ErrorActionPreference = 'Stop'
if (-not $RunsRoot) { $RunsRoot = Join-Path $Root 'runs' }
$config = Join-Path $Root 'samples/demo.yaml'
$corpus = Join-Path $Root 'samples/demo-corpus'
$run = Join-Path $RunsRoot 'demo'
$started = Get-Date
# Colour only on a terminal: pwsh writes ANSI colour (table headers, warnings, errors) even into a redirected stdout,
# so a redirected run and NO_COLOR (https://no-color.org) get plain text. Progress bars keep their bar, not their colour.
if ($env:NO_COLOR -or [Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }
if ($env:NO_COLOR) { $PSStyle.Progress.Style = '' }
$fig = [TacotronRecovery.Core.Figures]   # one way to write shares (92 %), durations (m:ss) and losses

function Step([string] $Text) { Write-Host ''; Write-Host "== $Text" -ForegroundColor Cyan }

Step '1. Environment and data'
$envReport = Test-TacotronEnvironment -RunsPath $RunsRoot
Write-Host $envReport.Verdict
$summary = Test-TacotronDataset -Path $corpus | Where-Object { $_ -is [TacotronRecovery.Core.Data.DatasetSummary] }
Write-Host ("demo corpus: {0} rows, {1} usable, {2} of audio, {3} held out for validation" -f $summary.Rows, $summary.UsableRows, $fig::Seconds($summary.TotalAudioHours * 3600), $summary.ValidationRows)

if (Test-Path $run) { Remove-Item $run -Recurse -Force }
Step '2. Train the demo preset, with faults injected (see samples/demo.yaml)'
$events = [System.Collections.Generic.List[object]]::new()
Start-TacotronTraining -Config $config -RunsRoot $RunsRoot -MetricsInterval 0 -WarningAction SilentlyContinue | ForEach-Object {
    if ($_ -is [TacotronRecovery.Core.Metrics.TrainingEvent]) { $events.Add($_) }
    elseif ($_ -is [TacotronRecovery.Core.Metrics.AlignmentMetrics] -and $_.Source -eq 'validation') {
        Write-Host ("  step {0,4} validation ({1} held-out sentences, free-running): Diagonality {2,5}  GateAccuracy {3,5}  within ±10 % {4,5}  step-limit hits {5,2}  MCD {6} dB  Quality {7,5}" -f $_.Step, $_.Sentences, $fig::Share($_.Diagonality), $fig::Share($_.GateAccuracy), $fig::Share($_.LengthWithin10), $_.StepLimitHits, $fig::Number($_.McdDtw), $fig::Percent($_.Quality))
    }
}
Write-Host 'What the engine did by itself:'
$events | Where-Object { $_.Kind -in 'Recovery', 'Restart', 'Training' -and $_.Code -ne 'Resumed' -or $_.Code -eq 'FaultInjected' } |
    ForEach-Object { Write-Host ("  step {0,4}  {1,-8} {2,-24} {3}" -f $_.Step, $_.Severity, $_.Code, $_.Message) }

$broken = Get-TrainingMetrics -Run $run -Kind Alignment -Last 1
Write-Host ("The run ends broken: attention collapsed at the last step (Diagonality {0})." -f $fig::Share($broken.Diagonality))

Step '3. Invoke-EmergencyRecovery -Run demo -Notify'
$recovery = Invoke-EmergencyRecovery -Run $run -MaxSteps $RecoverySteps -StageScale 0.1 -Notify -WarningAction SilentlyContinue
$plan = $recovery | Where-Object { $_ -is [TacotronRecovery.Core.Recovery.RecoveryPlan] }
# The module's views (TacotronRecovery.format.ps1xml, formats/) round for reading; the objects keep full precision.
$plan | Format-List | Out-Host
$recovery | Where-Object { $_ -is [TacotronRecovery.Core.Recovery.StageReached] } | Format-Table | Out-Host
$result = $recovery | Where-Object { $_ -is [TacotronRecovery.Core.Recovery.RecoveryResult] }
$result | Format-List | Out-Host
# What decided it: the last validation record (held-out sentences decoded one at a time, free-running), never the
# teacher-forced training-batch measurements.
$decider = Get-TrainingMetrics -Run $run -Kind Alignment | Where-Object Source -eq 'validation' | Select-Object -Last 1
Write-Host ("Decided by {0}" -f [TacotronRecovery.Core.Recovery.DoneTargets]::Figures($decider))
Write-Host ("Done means: {0}" -f [TacotronRecovery.Core.Recovery.DoneTargets]::Describe($null))
if ($result.Outcome -ne 'Recovered') { Write-Host ("Not met: {0}" -f ($result.Unmet -join '; ')) }

Step '4. Report'
$health = Get-TrainingMetrics -Run $run -Kind All -Last 300 | Test-LossHealth
$health | Format-List | Out-Host
foreach ($f in $health.Findings) { Write-Host "$($f.Code): $($f.Evidence)"; Write-Host "  what to do: $($f.Recommendation)" }
$metricsPlot = Export-TacotronPlot -Run $run -Kind Metrics -PassThru
$attention = Get-ChildItem (Join-Path $run 'plots') -Filter 'alignment-*.png' | Sort-Object Name | Select-Object -Last 1
$heldOut = (Get-Content (Join-Path $corpus 'validation.txt') | Select-Object -First 1)
$sentence = ((Get-Content (Join-Path $corpus 'metadata.csv')) -match "^$heldOut\|" | Select-Object -First 1).Split('|')[2]
$wav = Join-Path $run 'held-out.wav'
$synthesis = Get-TacotronCheckpoint -Run $run -Good -Latest | Invoke-TacotronSynthesis -Text $sentence -OutFile $wav -WarningAction SilentlyContinue
$outbox = @(Get-ChildItem (Join-Path $run 'outbox') -Filter '*.json' -ErrorAction SilentlyContinue)
Write-Host "metrics plot:    $($metricsPlot.FullName)"
Write-Host "attention plot:  $($attention.FullName)"
Write-Host ("held-out speech: {0} (""{1}"", {2} s, Diagonality {3})" -f $synthesis.Path, $sentence, $fig::Number($synthesis.DurationSeconds), $fig::Share($synthesis.Diagonality))
Write-Host "alerts queued:   $($outbox.Count) in $(Join-Path $run 'outbox') (set telegram.enabled, chat_id and TACOTRON_TELEGRAM_TOKEN to send them)"
Write-Host ("demo finished in {0}: {1}" -f $fig::Duration((Get-Date) - $started), $(if ($result.Outcome -eq 'Recovered') { 'the broken run was recovered: it speaks held-out sentences and stops (validation, free-running).' } else { 'the run was NOT recovered (Done not reached on validation, free-running): ' + $result.Diagnosis }))
