<#
.SYNOPSIS
    Steps until validation Diagonality >= 0.7 on the demo corpus, with and without MMI (training.mmi), per seed.
.DESCRIPTION
    For each seed and arm (base: training.mmi false; mmi: true, with the default mmi_weight 0.5 and
    mmi_frame_dropout 0.2) the script writes a config with the training, guided-attention and recovery settings of
    samples/demo.yaml (its faults section left out; training.seed set; checkpoints every 100 steps), trains it with
    Start-TacotronTraining and writes a stop request (runs/<name>/stop.request) as soon as a validation record (the 10
    held-out sentences decoded one at a time, free-running) has Diagonality >= 0.7. It prints one RESULT line per run
    with that step (or 'none' within -MaxSteps); the figures are as fine as -Every (the validation interval).
    Results and the command as last run: docs/model.md, MMI.
.PARAMETER Corpus
    The demo corpus (tools/make-demo-corpus.sh makes it; samples/demo-corpus holds only its text).
.PARAMETER Out
    Runs root for the measurement runs (replaced per run).
.PARAMETER Seeds
    Comma-separated training seeds. Default 1,2,3.
.PARAMETER Arms
    base, mmi or both (default): both runs base then mmi for each seed, so a cut-short measurement leaves pairs.
.PARAMETER MaxSteps
    Step limit per run. Default 600.
.PARAMETER Every
    Validation interval in steps. Default 50.
.EXAMPLE
    dotnet pwsh tools/Measure-MmiAlignment.ps1 -Corpus /tmp/demo-corpus -Out /tmp/mmi-runs -Seeds 1,2,3 -Every 25
#>
param(
    [Parameter(Mandatory)] [string] $Corpus,
    [Parameter(Mandatory)] [string] $Out,
    [string] $Seeds = '1,2,3',
    [ValidateSet('base', 'mmi', 'both')] [string] $Arms = 'both',
    [int] $MaxSteps = 600,
    [int] $Every = 50,
    [string] $Module = (Join-Path (Split-Path -Parent $PSScriptRoot) 'out/module/TacotronRecovery/TacotronRecovery.psd1')
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$Corpus = (Resolve-Path $Corpus).Path
$armList = if ($Arms -eq 'both') { 'base', 'mmi' } else { @($Arms) }
foreach ($seed in ($Seeds -split ',' | ForEach-Object { [int]$_ })) {
    foreach ($arm in $armList) {
        $name = "$arm-seed$seed"
        $cfg = Join-Path $Out "$name.yaml"
        @"
name: $name
data:
  path: $Corpus
model:
  preset: demo
training:
  max_steps: $MaxSteps
  batch_size: 16
  learning_rate: 0.002
  validation_every_steps: $Every
  validation_sentences: 10
  checkpoint_every_steps: 100
  keep_checkpoints: 2
  alignment_every_steps: 10
  gate_pos_weight: 5.0
  seed: $seed
  tensor_board: false
  mmi: $(if ($arm -eq 'mmi') { 'true' } else { 'false' })
guided_attention:
  weight: 10.0
  sigma: 0.2
recovery:
  attention_warmup_steps: 200
  critical_diagonality: 0.2
  exit_diagonality: 0.5
  attention_exit_steps: 40
  attention_budget_steps: 200
  skip_window_steps: 20
  max_skips_in_window: 3
  cooldown_steps: 10
  stable_steps_to_step_down: 60
health:
  gate_warmup_steps: 300
telegram:
  enabled: false
"@ | Set-Content $cfg
        $run = Join-Path $Out $name
        if (Test-Path $run) { Remove-Item $run -Recurse -Force }
        $started = Get-Date
        $hit = $null
        Start-TacotronTraining -Config $cfg -RunsRoot $Out -MetricsInterval 0 -WarningAction SilentlyContinue | ForEach-Object {
            if ($_ -is [TacotronRecovery.Core.Metrics.AlignmentMetrics] -and $_.Source -eq 'validation') {
                Write-Host ('{0} step {1} validation Diagonality {2:N3}' -f $name, $_.Step, $_.Diagonality)
                if ($null -eq $hit -and $_.Diagonality -ge 0.7) { $hit = $_.Step; Set-Content (Join-Path $run 'stop.request') 'stop' }
            }
            elseif ($_ -is [TacotronRecovery.Core.Metrics.TrainingEvent] -and $_.Kind -in 'Recovery', 'Restart') {
                Write-Host ('{0} step {1} {2}: {3}' -f $name, $_.Step, $_.Code, $_.Message)
            }
        }
        Write-Host ('RESULT {0}: first validation Diagonality >= 0.7 at step {1} (max {2}, validation every {3}); {4:N0} s' -f
            $name, $(if ($hit) { $hit } else { 'none' }), $MaxSteps, $Every, ((Get-Date) - $started).TotalSeconds)
    }
}
