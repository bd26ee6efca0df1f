name: success-list
success:   2   0    3
run * *: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port} --exit 2
