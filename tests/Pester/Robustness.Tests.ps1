# Hostile inputs through the cmdlets (docs/robustness.md): the user's shell survives, the error names the file and is
# fast, and nothing already written changes. The files are made here.
BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    function New-ZipPt([string] $Path, [byte[]] $Pickle) {
        Add-Type -AssemblyName System.IO.Compression
        $fs = [IO.File]::Create($Path)
        try {
            $zip = [IO.Compression.ZipArchive]::new($fs, [IO.Compression.ZipArchiveMode]::Create)
            $s = $zip.CreateEntry('archive/data.pkl', [IO.Compression.CompressionLevel]::NoCompression).Open()
            $s.Write($Pickle, 0, $Pickle.Length); $s.Dispose(); $zip.Dispose()
        } finally { $fs.Dispose() }
    }
}

Describe 'Hostile config files' {
    It 'refuses a 50 000-deep YAML with ConfigInvalid naming the line, and the shell lives on' {
        $path = Join-Path $TestDrive 'deep.yaml'
        Set-Content -Path $path -Value ('training: ' + ('[' * 50000) + (']' * 50000)) -NoNewline
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Start-TacotronTraining -Config $path -RunsRoot (Join-Path $TestDrive 'runs') } |
            Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage 'deep.yaml:1:*nested more than 64 levels*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        Test-Path (Join-Path $TestDrive 'runs') | Should -BeFalse
    }

    It 'refuses an alias bomb' {
        $lines = @('a0: &a0 [x, x, x, x, x, x, x, x, x, x]')
        foreach ($i in 1..9) { $lines += "a$($i): &a$($i) [" + ((1..10 | ForEach-Object { "*a$($i - 1)" }) -join ', ') + ']' }
        $path = Join-Path $TestDrive 'bomb.yaml'
        Set-Content -Path $path -Value $lines
        { Start-TacotronTraining -Config $path -RunsRoot (Join-Path $TestDrive 'runs') } |
            Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage 'bomb.yaml:*YAML nodes*'
    }
}

Describe 'Hostile PyTorch files' {
    It 'a zip whose pickle declares a 2 GB string is CheckpointCorrupt, fast, and nothing is written' {
        $path = Join-Path $TestDrive 'bigstring.pt'
        New-ZipPt $path ([byte[]] (0x80, 2, [byte][char]'X', 0xff, 0xff, 0xff, 0x7f, [byte][char]'.'))
        $before = Get-ChildItem $TestDrive | Select-Object -ExpandProperty Name
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Import-TacotronCheckpoint -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*bigstring.pt*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30   # includes starting the engine process
        Get-ChildItem $TestDrive | Select-Object -ExpandProperty Name | Should -Be $before
    }

    It 'a legacy file whose state dict is a list that contains itself is CheckpointCorrupt' {
        $path = Join-Path $TestDrive 'cycle.pt'
        [byte[]] $bytes = @(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e) +
            @(0x80, 2, 0x4d, 0xe9, 0x03, 0x2e) + @(0x80, 2, 0x7d, 0x2e) +
            @(0x80, 2, 0x7d, 0x8c, 10) + [Text.Encoding]::ASCII.GetBytes('state_dict') + @(0x5d, 0x71, 0, 0x68, 0, 0x61, 0x73, 0x2e) +
            @(0x80, 2, 0x5d, 0x2e)
        [IO.File]::WriteAllBytes($path, $bytes)
        { Import-TacotronCheckpoint -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*contains itself*'
        Test-Path ([IO.Path]::ChangeExtension($path, '.ckpt')) | Should -BeFalse
    }
}
