BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    . (Join-Path $PSScriptRoot 'TinyRun.ps1')
}

Describe 'Start-TacotronTraining' {
    It 'trains a tiny run in the foreground and writes the run directory' {
        $config = New-TinyConfig (Join-Path $TestDrive 'tiny.yaml')
        $out = Start-TacotronTraining -Config $config -RunsRoot (Join-Path $TestDrive 'runs') -Run tiny -MetricsInterval 1
        $steps = @($out | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.StepMetrics] })
        $steps.Step | Should -Be (1..6)
        ($steps | Where-Object { -not [double]::IsFinite($_.Loss) }) | Should -BeNullOrEmpty
        $info = $out | Select-Object -Last 1
        $info.Status | Should -Be 'Completed'
        $info.Step | Should -Be 6
        $run = Join-Path $TestDrive 'runs/tiny'
        @(Get-Content (Join-Path $run 'metrics.jsonl')).Count | Should -Be 6
        Get-ChildItem (Join-Path $run 'checkpoints') -Filter *.ckpt | Should -Not -BeNullOrEmpty
        Get-ChildItem (Join-Path $run 'plots') -Filter 'alignment-step-*.png' | Should -Not -BeNullOrEmpty
        Get-ChildItem (Join-Path $run 'tensorboard') | Should -Not -BeNullOrEmpty
        (Get-Content (Join-Path $run 'run.json') -Raw | ConvertFrom-Json).status | Should -Be 'Completed'
        @(Get-TrainingMetrics -Run $run -Kind Alignment | Where-Object Source -eq 'validation').Count | Should -Be 2
    }

    It 'says what mixed_precision: true (an old flag, read as auto) runs on this machine' {
        $config = New-TinyConfig (Join-Path $TestDrive 'mp.yaml') -MaxSteps 2 -ValidationEverySteps 10 -TensorBoard $false
        (Get-Content $config) -replace '^  threads: 1$', "  threads: 1`n  mixed_precision: true" | Set-Content $config
        $out = Start-TacotronTraining -Config $config -RunsRoot (Join-Path $TestDrive 'runs') -Run mp
        ($out | Select-Object -Last 1).Status | Should -Be 'Completed'
        # An Info event (bf16 on a CPU with native bf16) stays out of the pipeline; events.jsonl has every event.
        $events = Get-Content (Join-Path $TestDrive 'runs/mp/events.jsonl') | ConvertFrom-Json
        $mp = $events | Where-Object code -eq 'MixedPrecision'
        $mp.message | Should -BeLike 'training.mixed_precision auto: auto *'
    }

    It 'runs detached and stops gracefully with a checkpoint at the current step' {
        $config = New-TinyConfig (Join-Path $TestDrive 'long.yaml') -MaxSteps 100000
        $runs = Join-Path $TestDrive 'runs'
        $info = Start-TacotronTraining -Config $config -RunsRoot $runs -Run long -Detached
        $info.Run | Should -Be 'long'
        $metrics = Join-Path $runs 'long/metrics.jsonl'
        $deadline = (Get-Date).AddSeconds(90)
        while ((Get-Date) -lt $deadline -and -not ((Test-Path $metrics) -and @(Get-Content $metrics).Count -ge 3)) { Start-Sleep -Milliseconds 200 }
        (Get-TacotronRun -Run long -RunsRoot $runs).Status | Should -Be 'Running'
        $final = Stop-TacotronTraining -Run long -RunsRoot $runs -PassThru -TimeoutSeconds 60
        $final.Status | Should -Be 'Stopped'
        $last = Get-TacotronCheckpoint -Run long -RunsRoot $runs -Latest
        $last.Step | Should -Be $final.Step
    }

    It 'fails with ConfigInvalid naming file, line and key for a misspelt key' {
        $bad = Join-Path $TestDrive 'bad.yaml'
        "training:`n  lerning_rate: 0.1`n" | Set-Content $bad
        { Start-TacotronTraining -Config $bad -RunsRoot (Join-Path $TestDrive 'runs') -Run bad } |
            Should -Throw -ErrorId 'ConfigInvalid,TacotronRecovery.Commands.StartTacotronTrainingCommand' -ExpectedMessage '*bad.yaml:2:3*lerning_rate*'
    }

    It 'fails with DataInvalid when the dataset folder does not exist' {
        $config = New-TinyConfig (Join-Path $TestDrive 'nodata.yaml')
        { Start-TacotronTraining -Config $config -Dataset (Join-Path $TestDrive 'missing') -RunsRoot (Join-Path $TestDrive 'runs') -Run nodata } |
            Should -Throw -ErrorId 'DataInvalid,TacotronRecovery.Commands.StartTacotronTrainingCommand' -ExpectedMessage '*missing*'
    }

    It 'fails with ConfigNotFound for a missing config file' {
        { Start-TacotronTraining -Config (Join-Path $TestDrive 'none.yaml') } | Should -Throw -ErrorId 'ConfigNotFound,TacotronRecovery.Commands.StartTacotronTrainingCommand'
    }
}

Describe 'Engine supervisor' {
    It 'restarts a killed engine from the last good checkpoint one safe-mode level higher' {
        $config = New-TinyConfig (Join-Path $TestDrive 'kill.yaml') -MaxSteps 8 -Extra "faults:`n  kill_at_step: 5"
        $out = Start-TacotronTraining -Config $config -RunsRoot (Join-Path $TestDrive 'runs') -Run kill -MetricsInterval 1 -WarningAction SilentlyContinue
        $events = $out | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.TrainingEvent] }
        # One event per decision: the controller's Restart (no separate supervisor EngineRestart).
        @($events | Where-Object Code -eq 'Restart').Count | Should -Be 1
        $events.Code | Should -Not -Contain 'EngineRestart'
        ($out | Select-Object -Last 1).Status | Should -Be 'Completed'
        $steps = $out | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.StepMetrics] }
        ($steps | Select-Object -Last 1).SafeModeLevel | Should -Be 1
    }

    It 'restarts from the newest confirmed good checkpoint, not step 0, when checkpoints come faster than their confirmation' {
        # Checkpoints every 2 steps, 2 kept, confirmed Good after 6 healthy steps: keep-2 pruning used to delete each one
        # before its confirmation, so the only Good checkpoint stayed step 0 and every restart began again from scratch.
        # Saved at 4, 6, …, 12; 4 is confirmed at step 10, 6 at step 12; the engine dies before step 14.
        $extra = "recovery:`n  spike_persist_steps: 6`nfaults:`n  kill_at_step: 14"
        $config = New-TinyConfig (Join-Path $TestDrive 'newest.yaml') -MaxSteps 16 -Extra $extra
        (Get-Content $config -Raw).Replace("checkpoint_every_steps: 2", "checkpoint_every_steps: 2`n  keep_checkpoints: 2") | Set-Content $config
        $runs = Join-Path $TestDrive 'runs'
        $out = Start-TacotronTraining -Config $config -RunsRoot $runs -Run newest -WarningAction SilentlyContinue
        ($out | Select-Object -Last 1).Status | Should -Be 'Completed'
        $events = Get-Content (Join-Path $runs 'newest/events.jsonl') | ForEach-Object { $_ | ConvertFrom-Json }
        $restart = @($events | Where-Object code -eq 'Restart')
        $restart.Count | Should -Be 1
        $restart[0].data.resume_step | Should -Be 6
        @($events | Where-Object code -eq 'Resumed')[-1].message | Should -BeLike '*step-000006.ckpt*'
    }
}

Describe 'Invoke-TacotronSynthesis' {
    BeforeAll {
        $config = New-TinyConfig (Join-Path $TestDrive 'syn.yaml') -MaxSteps 2
        Start-TacotronTraining -Config $config -RunsRoot (Join-Path $TestDrive 'runs') -Run syn | Out-Null
        $script:Ckpt = (Get-TacotronCheckpoint -Run syn -RunsRoot (Join-Path $TestDrive 'runs') -Latest).Path
    }

    It 'writes a WAV and the alignment PNG from a checkpoint' {
        $wav = Join-Path $TestDrive 'hello.wav'
        $r = Invoke-TacotronSynthesis -Checkpoint $Ckpt -Text 'Hello there.' -OutFile $wav -WarningAction SilentlyContinue
        $r.Path | Should -Be $wav
        (Get-Item $wav).Length | Should -BeGreaterThan 44
        Test-Path ([System.IO.Path]::ChangeExtension($wav, '.png')) | Should -BeTrue
        $r.Frames | Should -BeGreaterThan 0
    }

    It 'refuses a tampered checkpoint with CheckpointCorrupt' {
        $bad = Join-Path $TestDrive 'tampered.ckpt'
        $bytes = [System.IO.File]::ReadAllBytes($Ckpt)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0xFF
        [System.IO.File]::WriteAllBytes($bad, $bytes)
        Invoke-TacotronSynthesis -Checkpoint $bad -Text 'Hello.' -OutFile (Join-Path $TestDrive 'x.wav') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CheckpointCorrupt*'
        $err[0].Exception.Message | Should -BeLike '*hash does not match*'
    }
}

Describe 'Invoke-EmergencyRecovery' {
    BeforeAll {
        $script:Runs = Join-Path $TestDrive 'runs'
        $config = New-TinyConfig (Join-Path $TestDrive 'broken.yaml') -MaxSteps 6 -Extra "recovery:`n  attention_warmup_steps: 1000`n  exit_diagonality: 0.99"
        Start-TacotronTraining -Config $config -RunsRoot $Runs -Run broken | Out-Null
    }

    It 'shows the plan and changes nothing with -WhatIf' {
        $before = @(Get-Content (Join-Path $Runs 'broken/metrics.jsonl')).Count
        $out = Invoke-EmergencyRecovery -Run broken -RunsRoot $Runs -WhatIf
        $plan = @($out)
        $plan.Count | Should -Be 1
        $plan[0].GetType().Name | Should -Be 'RecoveryPlan'
        $plan[0].Stages.Count | Should -Be 4
        $plan[0].StartStep | Should -Be 6
        @(Get-Content (Join-Path $Runs 'broken/metrics.jsonl')).Count | Should -Be $before
    }

    It 'rolls back, enters safe mode and critical guided attention, and reports a result' {
        $out = Invoke-EmergencyRecovery -Run broken -RunsRoot $Runs -MaxSteps 4 -StageScale 0.01 -Notify -WarningAction SilentlyContinue
        $out[0].GetType().Name | Should -Be 'RecoveryPlan'
        $decisions = $out | Where-Object { $_ -is [TacotronRecovery.Core.Metrics.TrainingEvent] -and $_.Kind -eq 'Recovery' }
        $decisions.Code | Should -Contain 'SafeModeEnter'
        $decisions.Code | Should -Contain 'AttentionCriticalEnter'
        $result = $out | Select-Object -Last 1
        $result.GetType().Name | Should -Be 'RecoveryResult'
        $result.Outcome | Should -BeIn 'Recovered', 'Failed'
        $result.GoodCheckpoint | Should -Exist
        $steps = Get-TrainingMetrics -Run broken -RunsRoot $Runs -Last 1
        $steps.Step | Should -Be 10
        $steps.SafeModeLevel | Should -Be 1
        $steps.Mode | Should -BeLike '*AttentionCritical*'
        Get-ChildItem (Join-Path $Runs 'broken/outbox') -Filter *.json | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-EmergencyRecovery -Checkpoint (PyTorch)' {
    It 'imports an NVIDIA-format .pt file and recovers it in a new run' {
        $runs = Join-Path $TestDrive 'runs'
        $config = New-TinyConfig (Join-Path $TestDrive 'pt.yaml') -MaxSteps 2
        Start-TacotronTraining -Config $config -RunsRoot $runs -Run source | Out-Null
        $pt = Join-Path $TestDrive 'checkpoint_2.pt'
        Get-TacotronCheckpoint -Run source -RunsRoot $runs -Latest | Export-TacotronCheckpoint -Format PyTorch -Destination $pt | Out-Null
        $out = Invoke-EmergencyRecovery -Checkpoint $pt -Config $config -RunsRoot $runs -MaxSteps 3 -StageScale 0.01 -WarningAction SilentlyContinue
        $result = $out | Select-Object -Last 1
        $result.GetType().Name | Should -Be 'RecoveryResult'
        $result.Run | Should -Be 'recovery-checkpoint_2'
        Test-Path (Join-Path $runs 'recovery-checkpoint_2/checkpoint_2.imported.ckpt') | Should -BeTrue
        # The export carries train.py's iteration (2): the recovery continues from it for its 3 steps.
        (Get-TrainingMetrics -Run recovery-checkpoint_2 -RunsRoot $runs -Last 1).Step | Should -Be 5
    }

    It 'refuses a garbage .pt file with a clear error' {
        $bad = Join-Path $TestDrive 'garbage.pt'
        [System.IO.File]::WriteAllBytes($bad, [byte[]](0x80, 0x02) + [byte[]](1..200))
        $config = New-TinyConfig (Join-Path $TestDrive 'g.yaml')
        Invoke-EmergencyRecovery -Checkpoint $bad -Config $config -RunsRoot (Join-Path $TestDrive 'runs') -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Checkpoint*'
    }
}
