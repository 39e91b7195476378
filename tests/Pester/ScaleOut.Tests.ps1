BeforeDiscovery {
    # The PyTorch side of scale-out (docs/scale-out.md): the adapter (module/python/tacotron_recovery.py) inside the
    # repository's own NVIDIA-compatible training loop (tools/reference/train_reference.py) under torchrun with gloo
    # on CPU. Needs python3 with torch and numpy and torchrun (Debian's python3-torch ships both; build.ps1 test
    # installs it as root); without them these tests are skipped with the reason.
    $python = if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }
    $script:NoTorch = $null
    if (-not (Test-Path $python)) { $script:NoTorch = "no $python" }
    else {
        $said = & $python -c 'import torch, numpy, torch.distributed as d; assert d.is_available() and d.is_gloo_available(), "torch.distributed without gloo"' 2>&1 | Select-Object -Last 1
        if ($LASTEXITCODE -ne 0) { $script:NoTorch = "$python cannot import torch and numpy with gloo ($said)" }
    }
    if ($script:NoTorch) { Write-Host "Scale-out (PyTorch) tests skipped: $script:NoTorch; install python3-torch and python3-numpy (build.ps1 test does so as root on Debian/Ubuntu)." }
    # The supervised tests need Start-TacotronTraining -Command (the supervisor side of scale-out).
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:NoSupervisor = -not (Get-Command Start-TacotronTraining).Parameters.ContainsKey('Command')
}

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    . (Join-Path $PSScriptRoot 'TinyRun.ps1')
    $script:Python = if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }
    $script:Trainer = Join-Path $Repo 'tools/reference/train_reference.py'
    $script:ModuleDir = Split-Path (Get-Module TacotronRecovery).Path
    $env:TACOTRON_RECOVERY_ADAPTER_DIR = Join-Path $script:ModuleDir 'python'  # the shipped copy, not the source tree's

    # Our features for a slice of the demo corpus: <id>.npy + filelist.txt (the engine's mels verb).
    $script:Mels = Join-Path $TestDrive 'mels'
    $dotnet = if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { [Environment]::ProcessPath } else { 'dotnet' }
    $said = & $dotnet (Join-Path $script:ModuleDir 'engine/TacotronRecovery.Host.dll') mels --dataset $Corpus --out $script:Mels --count 16 2>&1
    if ($LASTEXITCODE -ne 0) { throw "mels failed: $said" }
    $script:Filelist = Join-Path $script:Mels 'filelist.txt'

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
    }

    # Starts train_reference.py (under torchrun when -Ranks > 1) inside GNU timeout, which kills the whole process
    # group (torchrun and its workers) when -TimeoutSeconds pass. Returns the process; stdout+stderr go to -Log.
    function Start-Reference {
        param([string[]] $Arguments, [int] $Ranks = 1, [int] $TimeoutSeconds = 180, [string] $Log)
        $argv = @('--kill-after=10', "$TimeoutSeconds")
        if ($Ranks -gt 1) {
            # --redirects/--tee: torch 1.13's default '0' is parsed to None under Python 3.11 and torchrun fails
            # (AttributeError in to_map); '1' (stdout) works and is still shown.
            $argv += @('/usr/bin/torchrun', '--nproc_per_node', "$Ranks", '--master_addr', '127.0.0.1', '--master_port', "$(Get-FreePort)",
                '--redirects', '1', '--tee', '1', '--log_dir', (Join-Path $TestDrive "torchrun-$([guid]::NewGuid().ToString('N').Substring(0, 8))"),
                '--monitor_interval', '1')
        }
        else { $argv += $script:Python }
        $argv += @($script:Trainer) + $Arguments
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/bin/timeout')
        foreach ($a in $argv) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['OMP_NUM_THREADS'] = '1'
        $p = [System.Diagnostics.Process]::new()
        $p.StartInfo = $psi
        $null = $p.Start()
        $p | Add-Member -NotePropertyName Log -NotePropertyValue $Log
        $p | Add-Member -NotePropertyName Out -NotePropertyValue $p.StandardOutput.ReadToEndAsync()
        $p | Add-Member -NotePropertyName Err -NotePropertyValue $p.StandardError.ReadToEndAsync()
        $p
    }

    function Wait-Reference($p) {
        $p.WaitForExit()
        $text = $p.Out.Result + $p.Err.Result
        Set-Content -Path $p.Log -Value $text
        [pscustomobject]@{ ExitCode = $p.ExitCode; Text = $text }
    }

    function Invoke-Reference {
        param([string[]] $Arguments, [int] $Ranks = 1, [int] $TimeoutSeconds = 180, [string] $Log)
        Wait-Reference (Start-Reference -Arguments $Arguments -Ranks $Ranks -TimeoutSeconds $TimeoutSeconds -Log $Log)
    }

    function Read-JsonLines([string] $Path) { Get-Content $Path | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json } }

    # weights-rank<R>.txt: "iteration skipped hash" per step.
    function Read-WeightsLog([string] $Path) {
        Get-Content $Path | ForEach-Object { $f = $_ -split ' '; [pscustomobject]@{ Step = [int]$f[0]; Skipped = $f[1] -eq '1'; Hash = $f[2] } }
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "timed out after $Seconds s waiting for $What" }
            Start-Sleep -Milliseconds 200
        }
    }

    function Get-LastStep([string] $Run) {
        $file = Join-Path $Run 'metrics.jsonl'
        if (-not (Test-Path $file)) { return 0 }
        $last = Get-Content $file | Where-Object { $_ } | Select-Object -Last 1
        if ($last) { ($last | ConvertFrom-Json).step } else { 0 }
    }
}

Describe 'Test-TacotronEnvironment' {
    It 'names the shipped PyTorch adapter' {
        $adapter = (Test-TacotronEnvironment).PyTorchAdapter
        $adapter | Should -Be (Join-Path $script:ModuleDir 'python/tacotron_recovery.py')
        Test-Path $adapter | Should -BeTrue
    }
}

Describe 'The engine verb mels' -Skip:([bool]$script:NoTorch) {
    It 'writes our mels as one .npy per utterance (float32 [80, frames]) and a filelist with NVIDIA''s symbol ids' {
        $rows = @(Get-Content $script:Filelist)
        $rows.Count | Should -Be 16
        foreach ($row in $rows) {
            $id, $ids, $text = $row -split '\|', 3
            $id | Should -Match '^DEMO-\d{4}$'
            $text | Should -Not -BeNullOrEmpty
            $numbers = @($ids -split ' ' | ForEach-Object { [int]$_ })
            ($numbers | Measure-Object -Minimum -Maximum) | ForEach-Object { $_.Minimum | Should -BeGreaterThan 0; $_.Maximum | Should -BeLessThan 148 }
        }
        $first = ($rows[0] -split '\|')[0]
        $said = & $script:Python -c "import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype, a.shape[0], int(a.shape[1] > 10), int(np.isfinite(a).all()))" (Join-Path $script:Mels "$first.npy")
        "$said" | Should -Be 'float32 80 1 1'
    }
}

Describe 'PyTorch adapter under torchrun (2 ranks, gloo)' -Skip:([bool]$script:NoTorch) {
    It 'skips the step on every rank when one rank sees a NaN; only rank 0 writes, in our format' {
        $run = Join-Path $TestDrive 'runs/nan'
        $out = Join-Path $TestDrive 'pt/nan'
        # The NaN goes only into rank 1's reported loss (its gradients stay finite), so rank 0 skips only because the
        # verdict is all-reduced.
        $r = Invoke-Reference -Ranks 2 -Log (Join-Path $TestDrive 'nan.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', $out, '--run', $run, '--iterations', '5', '--iters-per-checkpoint', '0',
            '--attention-every', '2', '--inject-nan-at', '3', '--fault-rank', '1', '--nan-after-backward', '--weights-log')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $w0 = @(Read-WeightsLog (Join-Path $out 'weights-rank0.txt'))
        $w1 = @(Read-WeightsLog (Join-Path $out 'weights-rank1.txt'))
        $w0.Step | Should -Be (1..5)
        $w0.Hash | Should -Be $w1.Hash -Because 'both ranks hold the same weights after every step'
        @($w0 | Where-Object Skipped).Step | Should -Be 3
        @($w1 | Where-Object Skipped).Step | Should -Be 3
        $w0[2].Hash | Should -Be $w0[1].Hash -Because 'the skipped step 3 left the weights of step 2'
        $w0[3].Hash | Should -Not -Be $w0[2].Hash -Because 'step 4 trained again'

        $lines = @(Read-JsonLines (Join-Path $run 'metrics.jsonl'))
        $lines.step | Should -Be (1..5) -Because 'one line per step: rank 0 alone writes'
        @($lines | Where-Object skipped).step | Should -Be 3
        $lines[0].PSObject.Properties.Name | Should -Be @('run', 'step', 'time', 'epoch', 'learning_rate', 'loss', 'mel_loss',
            'mel_postnet_loss', 'gate_loss', 'guided_attention_loss', 'guided_attention_weight', 'grad_norm', 'clip_threshold',
            'skipped', 'safe_mode_level', 'mode', 'batch_size', 'step_seconds')
        $lines[0].batch_size | Should -Be 8 -Because 'two ranks of 4'
        $skip = @(Read-JsonLines (Join-Path $run 'events.jsonl') | Where-Object code -eq 'SkipStep')
        $skip.Count | Should -Be 1
        $skip[0].step | Should -Be 3
        $skip[0].kind | Should -Be 'Recovery'
        $skip[0].data.evidence | Should -Match 'nonfinite_on_another_rank=true ranks=2'
        (Get-ChildItem (Join-Path $run 'attention') -Filter 'step-*.json').Name | Should -Be @('step-000002.json', 'step-000004.json')

        # Our cmdlets read it unchanged.
        $metrics = @(Get-TrainingMetrics -Run $run)
        $metrics.Step | Should -Be (1..5)
        ($metrics | Where-Object Skipped).Step | Should -Be 3
        $metrics[0].GuidedAttentionWeight | Should -Be 5
        $health = Test-LossHealth -Run $run
        $health.StepsAnalyzed | Should -Be 5
        $health.LastStep | Should -Be 5
    }

    It 'applies a knobs.json written mid-run on both ranks, and stops every rank on stop.request with a checkpoint' {
        $run = Join-Path $TestDrive 'runs/knobs'
        $out = Join-Path $TestDrive 'pt/knobs'
        $p = Start-Reference -Ranks 2 -Log (Join-Path $TestDrive 'knobs.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', $out, '--run', $run, '--iterations', '500', '--iters-per-checkpoint', '0',
            '--attention-every', '0', '--weights-log')
        try {
            Wait-Until { (Get-LastStep $run) -ge 2 } 120 'step 2'
            # As the supervisor writes it: a temporary file renamed into place.
            $knobs = @{ version = 1; learning_rate = 0.0005; clip_threshold = 0.5; guided_attention_weight = 2.0
                guided_attention_enabled = $true; mixed_precision = $false; mmi = $false; safe_mode_level = 1; mode = 'SafeMode'; skip_nonfinite = $true } | ConvertTo-Json -Compress
            Set-Content -Path (Join-Path $run 'knobs.json.tmp') -Value $knobs
            Move-Item (Join-Path $run 'knobs.json.tmp') (Join-Path $run 'knobs.json') -Force
            $changedAfter = Get-LastStep $run
            Wait-Until { @(Read-JsonLines (Join-Path $run 'metrics.jsonl') | Where-Object learning_rate -eq 0.0005).Count -ge 2 } 120 'the new learning rate'
            New-Item -ItemType File (Join-Path $run 'stop.request') | Out-Null
            $r = Wait-Reference $p
        }
        finally { if (-not $p.HasExited) { $p.Kill($true) } }
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match 'stopped at iteration (\d+)'
        $stoppedAt = [int][regex]::Match($r.Text, 'stopped at iteration (\d+)').Groups[1].Value
        $stoppedAt | Should -BeLessThan 500
        Test-Path (Join-Path $out "checkpoint_$stoppedAt") | Should -BeTrue
        $saved = @(Read-JsonLines (Join-Path $run 'events.jsonl') | Where-Object code -eq 'CheckpointSaved')
        $saved[-1].data.step | Should -Be $stoppedAt
        $saved[-1].data.path | Should -Be (Join-Path $out "checkpoint_$stoppedAt")

        $lines = @(Read-JsonLines (Join-Path $run 'metrics.jsonl'))
        $lines.step | Should -Be (1..$stoppedAt)
        $first = ($lines | Where-Object learning_rate -eq 0.0005 | Select-Object -First 1).step
        $first | Should -BeGreaterThan $changedAfter
        foreach ($l in $lines | Where-Object step -ge $first) {
            $l.learning_rate | Should -Be 0.0005
            $l.clip_threshold | Should -Be 0.5
            $l.guided_attention_weight | Should -Be 2
            $l.safe_mode_level | Should -Be 1
            $l.mode | Should -Be 'SafeMode'
        }
        foreach ($l in $lines | Where-Object step -lt $first) { $l.learning_rate | Should -Be 0.001 }
        (Read-WeightsLog (Join-Path $out 'weights-rank0.txt')).Hash | Should -Be (Read-WeightsLog (Join-Path $out 'weights-rank1.txt')).Hash -Because 'every rank switched at the same step'
    }

    It 'ends within bounded time when a rank is killed (torchrun stops the other rank, exit non-zero)' {
        $run = Join-Path $TestDrive 'runs/killed'
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-Reference -Ranks 2 -TimeoutSeconds 150 -Log (Join-Path $TestDrive 'killed.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', (Join-Path $TestDrive 'pt/killed'), '--run', $run, '--iterations', '500',
            '--iters-per-checkpoint', '0', '--kill-rank-at', '1:3')
        $r.ExitCode | Should -Not -Be 0
        $r.ExitCode | Should -Not -Be 124 -Because "torchrun, not the test's timeout, ends the run: $($r.Text)"
        $r.Text | Should -Match 'rank 1: killing myself at iteration 3'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 150
        Get-LastStep $run | Should -Be 2
    }
}

Describe 'PyTorch adapter, one process: faults' -Skip:([bool]$script:NoTorch) {
    It 'records a NaN storm as skipped steps that Test-LossHealth judges critical' {
        $run = Join-Path $TestDrive 'runs/storm'
        $r = Invoke-Reference -Log (Join-Path $TestDrive 'storm.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', (Join-Path $TestDrive 'pt/storm'), '--run', $run, '--iterations', '8',
            '--iters-per-checkpoint', '0', '--attention-every', '0', '--nan-storm-from', '3')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $metrics = @(Get-TrainingMetrics -Run $run)
        ($metrics | Where-Object Skipped).Step | Should -Be (3..8)
        [double]::IsNaN($metrics[4].Loss) | Should -BeTrue
        [double]::IsNaN($metrics[4].GradNorm) | Should -BeTrue
        @(Read-JsonLines (Join-Path $run 'events.jsonl') | Where-Object code -eq 'SkipStep').Count | Should -Be 6
        $health = Test-LossHealth -Run $run
        $health.Status | Should -Be 'Critical'
        $health.Findings.Code | Should -Contain 'NonFiniteLoss'
    }

    It 'writes the attention matrices of the collapsed attention (uniform rows) for the supervisor to score' {
        $run = Join-Path $TestDrive 'runs/collapse'
        $r = Invoke-Reference -Log (Join-Path $TestDrive 'collapse.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', (Join-Path $TestDrive 'pt/collapse'), '--run', $run, '--iterations', '4',
            '--iters-per-checkpoint', '0', '--attention-every', '2', '--collapse-attention-at', '4')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $before = Get-Content (Join-Path $run 'attention/step-000002.json') -Raw | ConvertFrom-Json
        $after = Get-Content (Join-Path $run 'attention/step-000004.json') -Raw | ConvertFrom-Json
        $after.step | Should -Be 4
        $after.source | Should -Be 'Train'
        $after.utterances.Count | Should -Be 4
        foreach ($u in $after.utterances) {
            $u.id | Should -Match '^DEMO-\d{4}$'
            $u.alignment.Count | Should -Be ($u.steps * $u.tokens)
            # Zeroed energies: every decoder step attends to every token equally.
            ($u.alignment | Measure-Object -Maximum -Minimum) | ForEach-Object { ($_.Maximum - $_.Minimum) | Should -BeLessThan 1e-5 }
        }
        $u = $before.utterances[0]
        ($u.alignment | Measure-Object -Maximum).Maximum | Should -BeGreaterThan (1.5 / $u.tokens) -Because 'before the collapse the rows are not uniform'
    }
}

Describe 'Hand-off between our engine and the PyTorch trainer' -Skip:([bool]$script:NoTorch) {
    BeforeAll {
        # NVIDIA's Tacotron 2 trains with one frame per decoder step; the demo preset has two.
        $script:Config = New-TinyConfig (Join-Path $TestDrive 'handoff.yaml') -MaxSteps 4 -ValidationEverySteps 10 -TensorBoard $false
        (Get-Content $script:Config) -replace '^  preset: demo$', "  preset: demo`n  n_frames_per_step: 1" | Set-Content $script:Config
        $script:Runs = Join-Path $TestDrive 'handoff-runs'
    }

    It 'resumes an exported engine checkpoint in train_reference.py with its iteration, Adam state and learning rate' {
        Start-TacotronTraining -Config $script:Config -RunsRoot $script:Runs -Run ours | Out-Null
        $exported = Get-TacotronCheckpoint -Run ours -RunsRoot $script:Runs -Latest | Export-TacotronCheckpoint -Destination (Join-Path $TestDrive 'ours.pt')
        $exported.Layout | Should -Be 'train.py'
        $exported.OptimizerCarried | Should -BeTrue
        $exported.Step | Should -Be 4
        $taken = @(Get-TrainingMetrics -Run ours -RunsRoot $script:Runs | Where-Object { $_.Step -le 4 -and -not $_.Skipped }).Count
        $lr = (Get-TrainingMetrics -Run ours -RunsRoot $script:Runs -Last 1).LearningRate
        $exported.LearningRate | Should -Be $lr

        $run = Join-Path $TestDrive 'runs/resumed'
        $out = Join-Path $TestDrive 'pt/resumed'
        $r = Invoke-Reference -Log (Join-Path $TestDrive 'resumed.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', $out, '--run', $run, '-c', $exported.Path, '--iterations', '6',
            '--iters-per-checkpoint', '0', '--attention-every', '0')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match "resumed .*: iteration 4, learning_rate $([regex]::Escape(('{0:g}' -f $lr).Replace(',', '.'))), adam_step $taken"
        $lines = @(Read-JsonLines (Join-Path $run 'metrics.jsonl'))
        $lines.step | Should -Be @(5, 6)
        $lines.learning_rate | Should -Be @($lr, $lr)
        $check = & $script:Python -c "import sys, torch; c = torch.load(sys.argv[1]); print(c['iteration'], max(float(s['step']) for s in c['optimizer']['state'].values()), c['learning_rate'])" (Join-Path $out 'checkpoint_6')
        $f = "$check" -split ' '
        [int]$f[0] | Should -Be 6
        [int][double]$f[1] | Should -Be ($taken + 2) -Because 'Adam continued counting from the engine''s steps'
        [double]$f[2] | Should -Be $lr
    }

    It 'recovers a train_reference.py checkpoint with Invoke-EmergencyRecovery -Checkpoint' {
        $out = Join-Path $TestDrive 'pt/source'
        $r = Invoke-Reference -Log (Join-Path $TestDrive 'source.log') -Arguments @(
            '--filelist', $script:Filelist, '-o', $out, '--run', (Join-Path $TestDrive 'runs/source'), '--iterations', '3',
            '--iters-per-checkpoint', '0', '--attention-every', '0')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $pt = Join-Path $TestDrive 'checkpoint_3.pt'
        Copy-Item (Join-Path $out 'checkpoint_3') $pt
        $result = Invoke-EmergencyRecovery -Checkpoint $pt -Config $script:Config -RunsRoot $script:Runs -MaxSteps 2 -StageScale 0.01 -WarningAction SilentlyContinue |
            Select-Object -Last 1
        $result.GetType().Name | Should -Be 'RecoveryResult'
        $result.Run | Should -Be 'recovery-checkpoint_3'
        $steps = @(Get-TrainingMetrics -Run recovery-checkpoint_3 -RunsRoot $script:Runs)
        $steps[0].Step | Should -Be 4 -Because 'the engine continues after the PyTorch iteration'
        $steps.Step | Should -Be @(4, 5) -Because '-MaxSteps counts from the restored step'
        $steps[-1].Step | Should -Be 5
    }
}

# Written against the adapter/supervisor contract (docs/scale-out.md) by the PyTorch side: the real trainer under the
# supervisor. Skipped until Start-TacotronTraining has -Command.
Describe 'Supervised PyTorch run (Start-TacotronTraining -Command, 2 ranks)' -Skip:([bool]$script:NoTorch -or $script:NoSupervisor) {
    BeforeEach {
        $script:Runs = Join-Path $TestDrive 'supervised-runs'
        $script:Out = Join-Path $TestDrive "supervised-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:RecoveryConfig = Join-Path $TestDrive 'recovery.yaml'
        @'
recovery:
  skip_window_steps: 20
  max_skips_in_window: 2
  spike_persist_steps: 3
  cooldown_steps: 5
  max_restarts: 3
'@ | Set-Content $script:RecoveryConfig
        # The run directory comes from TACOTRON_RECOVERY_RUN, which the supervisor sets.
        $script:Torchrun = @('/usr/bin/torchrun', '--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', "$(Get-FreePort)",
            '--redirects', '1', '--tee', '1', '--log_dir', (Join-Path $Out 'torchrun'), $script:Trainer,
            '--filelist', $script:Filelist, '-o', $Out, '--iterations', '15', '--iters-per-checkpoint', '3', '--attention-every', '3',
            '-c', '{checkpoint}')
    }

    It 'restarts after a killed rank from a Good checkpoint and completes' {
        $objects = Start-TacotronTraining -Config $RecoveryConfig -RunsRoot $Runs -Run killed -Command ($Torchrun + @('--kill-rank-at', '1:10')) -GraceSeconds 10 -WarningAction SilentlyContinue
        $objects[-1].Status | Should -Be 'Completed'
        $events = @(Get-Content (Join-Path $Runs 'killed/events.jsonl') | ConvertFrom-Json)
        @($events | Where-Object code -eq 'Restart').Count | Should -Be 1
        $steps = @(Get-Content (Join-Path $Runs 'killed/metrics.jsonl') | ConvertFrom-Json).step
        $steps[-1] | Should -Be 15
        $restartAt = @(for ($i = 1; $i -lt $steps.Count; $i++) { if ($steps[$i] -le $steps[$i - 1]) { $steps[$i] } })
        $restartAt.Count | Should -Be 1 -Because 'the restarted group resumed once, from a checkpoint before the death'
        ($restartAt[0] - 1) % 3 | Should -Be 0 -Because 'it resumed right after a checkpoint_<3k>'
        $ledger = Get-Content (Join-Path $Runs 'killed/checkpoints/external.json') -Raw | ConvertFrom-Json
        ($ledger | Where-Object step -eq ($restartAt[0] - 1)).good | Should -BeTrue
    }

    It 'answers an attention collapse with critical mode: the raised guided-attention weight reaches the ranks through the knobs' {
        # Attention is judged from step 8 on (the untrained model's early attention is not judged); it collapses at 9.
        $config = Join-Path $TestDrive 'collapse.yaml'
        @'
recovery:
  attention_warmup_steps: 8
  critical_diagonality: 0.2
'@ | Set-Content $config
        $objects = Start-TacotronTraining -Config $config -RunsRoot $Runs -Run collapsed -Command ($Torchrun + @('--collapse-attention-at', '9')) -GraceSeconds 10 -WarningAction SilentlyContinue
        $objects[-1].Status | Should -Be 'Completed'
        $events = @(Get-Content (Join-Path $Runs 'collapsed/events.jsonl') | ConvertFrom-Json)
        $enter = @($events | Where-Object code -eq 'AttentionCriticalEnter')
        $enter.Count | Should -BeGreaterOrEqual 1
        $enter[0].step | Should -BeGreaterOrEqual 9 -Because 'the collapse happened at step 9'
        $scored = @(Get-Content (Join-Path $Runs 'collapsed/alignment.jsonl') | ConvertFrom-Json | Where-Object step -ge 9)
        $scored[0].diagonality | Should -BeLessThan 0.2 -Because 'the supervisor scored the collapsed (uniform) attention'
        $knobs = Get-Content (Join-Path $Runs 'collapsed/knobs.json') -Raw | ConvertFrom-Json
        $knobs.mode | Should -Match 'Attention'
        $knobs.guided_attention_weight | Should -BeGreaterThan 0
        $last = @(Get-Content (Join-Path $Runs 'collapsed/metrics.jsonl') | ConvertFrom-Json)[-1]
        $last.step | Should -Be 15
        $last.guided_attention_weight | Should -Be $knobs.guided_attention_weight -Because 'the ranks train with the supervisor''s weight'
    }

    It 'rolls back a NaN storm: every rank restarts from the Good checkpoint with the safe-mode learning rate applied' {
        $objects = Start-TacotronTraining -Config $RecoveryConfig -RunsRoot $Runs -Run storm -Command ($Torchrun + @('--nan-storm-from', '10')) -GraceSeconds 10 -WarningAction SilentlyContinue
        $objects[-1].Status | Should -Be 'Completed'
        $codes = @(Get-Content (Join-Path $Runs 'storm/events.jsonl') | ConvertFrom-Json).code
        $codes | Should -Contain 'Rollback'
        $codes | Should -Contain 'SafeModeEnter'
        $lines = @(Get-Content (Join-Path $Runs 'storm/metrics.jsonl') | ConvertFrom-Json)
        @($lines | Where-Object skipped).Count | Should -BeGreaterOrEqual 3
        $knobs = Get-Content (Join-Path $Runs 'storm/knobs.json') -Raw | ConvertFrom-Json
        $knobs.safe_mode_level | Should -BeGreaterOrEqual 1
        $lines[-1].step | Should -Be 15
        $lines[-1].learning_rate | Should -Be $knobs.learning_rate -Because 'the adapter applied the supervisor''s learning rate on every rank'
        $lines[-1].safe_mode_level | Should -Be $knobs.safe_mode_level
    }
}
