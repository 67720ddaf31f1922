resource "aws_vpc" "shop" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = local.prefix }
}

resource "aws_subnet" "edge" {
  count                   = 2
  vpc_id                  = aws_vpc.shop.id
  cidr_block              = cidrsubnet("10.20.0.0/16", 8, count.index)
  availability_zone       = element(["eu-west-1a", "eu-west-1b"], count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${local.prefix}-edge-${count.index}" }
}

resource "aws_internet_gateway" "shop" {
  vpc_id = aws_vpc.shop.id
}

resource "aws_route_table" "edge" {
  vpc_id = aws_vpc.shop.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.shop.id
  }
}

resource "aws_route_table_association" "edge" {
  count          = 2
  subnet_id      = aws_subnet.edge[count.index].id
  route_table_id = aws_route_table.edge.id
}
