BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
}

Describe 'Test-TacotronEnvironment' {
    It 'reports libtorch loaded through the engine process' {
        $r = Test-TacotronEnvironment -RunsPath $TestDrive
        $r.LibTorchLoaded | Should -BeTrue
        $r.LibTorch | Should -Match '^2\.10'
        $r.CpuThreads | Should -BeGreaterThan 0
        $r.Verdict | Should -Match '^Ready'
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.EnvironmentReport'
    }

    It 'does not load libtorch into the PowerShell process' {
        Test-TacotronEnvironment -RunsPath $TestDrive | Out-Null
        [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Should -Not -Contain 'TorchSharp'
    }
}
