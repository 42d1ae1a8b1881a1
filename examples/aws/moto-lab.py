#!/usr/bin/env python3
"""Build a demo ALB in a local moto_server, for trying the aws provider
without an AWS account:

    moto_server -H 127.0.0.1 -p 5000 &
    python3 examples/aws/moto-lab.py http://127.0.0.1:5000
    AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing \
      AWS_SECRET_ACCESS_KEY=testing corsaudit discover --config examples/aws/corsaudit-moto.yaml

It creates a VPC with two subnets, the ALB "shop-alb", target groups
"shop-blue" (three ip targets) and "shop-green" (one ip target) at loopback
addresses 127.0.0.2-5 port 8080, an instance group "shop-legacy" of two EC2
instances (moto's 10.0.x addresses: listed, never reachable), and an HTTP
listener whose rule forwards 90/10 to blue and green. Nothing is created
in AWS: every call goes to the endpoint given.
"""
import sys

import boto3

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
ec2 = boto3.client("ec2", **kw)
elb = boto3.client("elbv2", **kw)

vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
           for i, az in ((1, "us-east-1a"), (2, "us-east-1b"))]
lb = elb.create_load_balancer(Name="shop-alb", Subnets=subnets, Type="application")["LoadBalancers"][0]


def group(name, targets, kind="ip"):
    arn = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc,
                                  TargetType=kind)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=targets)
    return arn


blue = group("shop-blue", [{"Id": f"127.0.0.{i}", "Port": 8080} for i in (2, 3, 4)])
green = group("shop-green", [{"Id": "127.0.0.5", "Port": 8080}])
run = ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2, SubnetId=subnets[0])
legacy = group("shop-legacy", [{"Id": i["InstanceId"]} for i in run["Instances"]], kind="instance")

listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}])["Listeners"][0]
elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}]}}])
elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=20,
                Conditions=[{"Field": "path-pattern", "Values": ["/legacy/*"]}],
                Actions=[{"Type": "forward", "TargetGroupArn": legacy}])
print(f"created shop-alb ({lb['DNSName']}) in {endpoint}")
