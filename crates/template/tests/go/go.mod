module hookshot/template-golden

go 1.19
