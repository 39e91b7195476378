BeforeDiscovery {
    # The repository's PyTorch reference (tools/reference/tacotron2_reference.py) writes and reads the NVIDIA-format
    # files; it needs python3 with torch and numpy (build.ps1 test installs python3-torch where it can). Without them
    # these tests are skipped, with the reason printed here.
    $python = if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }
    $script:NoTorch = $null
    if (-not (Test-Path $python)) { $script:NoTorch = "no $python" }
    else {
        $said = & $python -c 'import torch, numpy' 2>&1 | Select-Object -Last 1
        if ($LASTEXITCODE -ne 0) { $script:NoTorch = "$python cannot import torch and numpy ($said)" }
    }
    if ($script:NoTorch) { Write-Host "PyTorch reference tests skipped: $script:NoTorch; install python3-torch and python3-numpy (build.ps1 test does so as root on Debian/Ubuntu)." }
}

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    $script:Python = if ($env:TACOTRON_PYTHON) { $env:TACOTRON_PYTHON } else { '/usr/bin/python3' }
    $script:Reference = if ($env:TACOTRON_REFERENCE_PY) { $env:TACOTRON_REFERENCE_PY } else {
        [IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../tools/reference/tacotron2_reference.py'))
    }
    if (-not (Test-Path $script:Reference)) { throw "The PyTorch reference script is missing: $script:Reference (tools/reference/tacotron2_reference.py of the repository, or set TACOTRON_REFERENCE_PY)." }

    $script:Dims = Join-Path $TestDrive 'dims.json'
    @{
        n_symbols = 13; symbols_embedding_dim = 16; encoder_embedding_dim = 16; encoder_n_convolutions = 2; encoder_kernel_size = 3
        decoder_rnn_dim = 24; attention_rnn_dim = 20; prenet_dim = 8; attention_dim = 6; attention_location_n_filters = 4
        attention_location_kernel_size = 7; postnet_embedding_dim = 10; postnet_kernel_size = 3; postnet_n_convolutions = 3; n_mel_channels = 5
    } | ConvertTo-Json | Set-Content $script:Dims
    $script:Source = Join-Path $TestDrive 'checkpoint_3.pt'
    & $script:Python $script:Reference random --dims $script:Dims --out $script:Source --train-steps 3 --fp16 | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "tacotron2_reference.py random failed" }

    function New-ParityInput {
        $path = Join-Path $TestDrive 'in.npz'
        & $script:Python -c "import sys, numpy as np; r = np.random.default_rng(3); np.savez(sys.argv[1], text=r.integers(1, 13, (2, 9)).astype(np.int64), input_lengths=np.array([9, 9], dtype=np.int64), mel=(r.standard_normal((2, 5, 12)) - 4).astype(np.float32), output_lengths=np.array([12, 12], dtype=np.int64))" $path
        $path
    }
}

Describe 'Import-TacotronCheckpoint' -Skip:([bool]$script:NoTorch) {
    It 'imports an NVIDIA train.py checkpoint with fp16 weights and carries the optimizer' {
        $r = Import-TacotronCheckpoint -Path $script:Source
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.ImportedCheckpoint'
        $r.Path | Should -Be ([IO.Path]::ChangeExtension($script:Source, '.ckpt'))
        Test-Path $r.Path | Should -BeTrue
        $r.Step | Should -Be 3
        $r.Format | Should -Be 'zip'
        $r.Layout | Should -Be 'train.py'
        $r.HalfPrecision | Should -BeTrue
        $r.OptimizerCarried | Should -BeTrue
        $r.Preset | Should -Be 'custom'
        $r.Dimensions | Should -Match '^symbols 13×16, encoder 16 \(2 conv k3\)'
        $r.ConfigYaml | Should -Match 'n_symbols: 13'
        $r.Parameters | Should -BeGreaterThan 10000
    }

    It 'refuses to overwrite without -Force' {
        $dest = Join-Path $TestDrive 'twice.ckpt'
        Import-TacotronCheckpoint -Path $script:Source -Destination $dest | Out-Null
        Import-TacotronCheckpoint -Path $script:Source -Destination $dest -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DestinationExists,*'
        (Import-TacotronCheckpoint -Path $script:Source -Destination $dest -Force).Step | Should -Be 3
    }

    It 'leaves -IgnoreLayers keys fresh for a new symbol set' {
        $r = Import-TacotronCheckpoint -Path $script:Source -Destination (Join-Path $TestDrive 'warm.ckpt') -IgnoreLayers embedding.weight -NSymbols 40
        $r.IgnoredKeys | Should -Be @('embedding.weight')
        $r.Dimensions | Should -Match '^symbols 40×16'
    }

    It 'gives CheckpointCorrupt for a garbage file' {
        $bad = Join-Path $TestDrive 'garbage.pt'
        [IO.File]::WriteAllBytes($bad, [byte[]](1..200 | ForEach-Object { $_ % 251 }))
        Import-TacotronCheckpoint -Path $bad -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CheckpointCorrupt,*'
        $err[0].TargetObject | Should -Be $bad
        $err[0].Exception.Message | Should -Match 'not a PyTorch checkpoint'
        Test-Path ([IO.Path]::ChangeExtension($bad, '.ckpt')) | Should -BeFalse
    }

    It 'gives CheckpointCorrupt for a truncated file' {
        $cut = Join-Path $TestDrive 'cut.pt'
        $bytes = [IO.File]::ReadAllBytes($script:Source)
        [IO.File]::WriteAllBytes($cut, $bytes[0..([int]($bytes.Length / 3))])
        Import-TacotronCheckpoint -Path $cut -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CheckpointCorrupt,*'
    }

    It 'gives CheckpointInvalid naming the key for a state dict that does not fit' {
        $tampered = Join-Path $TestDrive 'tampered.pt'
        & $script:Python -c "import sys, torch; ck = torch.load(sys.argv[1]); ck['state_dict']['decoder.gate_layer.linear_layer.weight'] = torch.zeros(1, 3); torch.save(ck, sys.argv[2])" $script:Source $tampered
        Import-TacotronCheckpoint -Path $tampered -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CheckpointInvalid,*'
        $err[0].Exception.Message | Should -Match 'decoder\.gate_layer\.linear_layer\.weight: file \[1, 3\], model \[1, 40\]'
    }
}

Describe 'Export-TacotronCheckpoint' -Skip:([bool]$script:NoTorch) {
    It 'round-trips ours to PyTorch and back to the same dimensions and step' {
        $first = Import-TacotronCheckpoint -Path $script:Source -Destination (Join-Path $TestDrive 'first.ckpt')
        $exported = $first | Export-TacotronCheckpoint -Format PyTorch -Destination (Join-Path $TestDrive 'exported.pt')
        $exported.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.ExportedCheckpoint'
        $exported.Tensors | Should -Be 63
        $exported.Step | Should -Be 3
        & $script:Python $script:Reference forward --checkpoint $exported.Path --dims $script:Dims --input (New-ParityInput) --output (Join-Path $TestDrive 'strict.npz') | Out-Null
        $LASTEXITCODE | Should -Be 0 -Because 'the reference loads the export with load_state_dict(strict=True)'
        $second = Import-TacotronCheckpoint -Path $exported.Path -Destination (Join-Path $TestDrive 'second.ckpt')
        $second.Dimensions | Should -Be $first.Dimensions
        $second.Parameters | Should -Be $first.Parameters
        $second.Layout | Should -Be 'train.py'
        $second.Step | Should -Be 3
        $second.OptimizerCarried | Should -BeTrue -Because 'the export writes the Adam state as train.py does'
    }

    It 'writes a bare state dict with -Layout StateDict' {
        $first = Import-TacotronCheckpoint -Path $script:Source -Destination (Join-Path $TestDrive 'bare.ckpt')
        $exported = $first | Export-TacotronCheckpoint -Destination (Join-Path $TestDrive 'bare.pt') -Layout StateDict
        $exported.Layout | Should -Be 'state_dict'
        $exported.OptimizerCarried | Should -BeFalse
        & $script:Python -c "import sys, torch; sd = torch.load(sys.argv[1]); assert 'embedding.weight' in sd and 'optimizer' not in sd, list(sd)[:3]" $exported.Path
        $LASTEXITCODE | Should -Be 0
    }

    It 'gives CheckpointCorrupt for a tampered .ckpt' {
        $ckpt = (Import-TacotronCheckpoint -Path $script:Source -Destination (Join-Path $TestDrive 'tamper.ckpt')).Path
        $bytes = [IO.File]::ReadAllBytes($ckpt)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0xFF
        [IO.File]::WriteAllBytes($ckpt, $bytes)
        Export-TacotronCheckpoint -Path $ckpt -Format PyTorch -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CheckpointCorrupt,*'
        $err[0].Exception.Message | Should -Match 'hash does not match'
    }
}

Describe 'Invoke-TacotronForward' -Skip:([bool]$script:NoTorch) {
    It 'writes the reference arrays and agrees with the PyTorch forward within 1e-4' {
        $ckpt = Import-TacotronCheckpoint -Path $script:Source -Destination (Join-Path $TestDrive 'forward.ckpt')
        $in = New-ParityInput
        $r = Invoke-TacotronForward -Checkpoint $ckpt.Path -InputFile $in -OutputFile (Join-Path $TestDrive 'ours.npz')
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.ForwardOutput'
        $r.Batch | Should -Be 2
        $r.Arrays | Should -Contain 'alignments [2, 12, 9]'
        $r.Arrays | Should -Contain 'encoder_outputs [2, 9, 16]'
        & $script:Python $script:Reference forward --checkpoint $script:Source --dims $script:Dims --input $in --output (Join-Path $TestDrive 'ref.npz') | Out-Null
        $worst = & $script:Python -c "import sys, numpy as np; a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); print(max(float(np.abs(a[k] - b[k]).max()) for k in a.files))" $r.Path (Join-Path $TestDrive 'ref.npz')
        [double]$worst | Should -BeLessThan 1e-4
    }

    It 'gives ParityInputInvalid naming a missing array' {
        $bad = Join-Path $TestDrive 'bad.npz'
        & $script:Python -c "import sys, numpy as np; np.savez(sys.argv[1], text=np.ones((1, 3), dtype=np.int64))" $bad
        Invoke-TacotronForward -Checkpoint $script:Source -InputFile $bad -OutputFile (Join-Path $TestDrive 'x.npz') -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ParityInputInvalid,*'
        $err[0].Exception.Message | Should -Match "array 'input_lengths' is missing"
    }
}
