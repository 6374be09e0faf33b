module hookshot/cooldown-golden

go 1.19
