#!/usr/bin/perl
# perl workload of the programs suite: hashes, hashes of arrays, regexes,
# sort with custom comparators, closures, string building, sprintf, split/join.
# Usage: perl script.pl INPUT   (deterministic output)
use strict;
use warnings;

my $in = shift;
open my $fh, '<', $in or die "$in: $!";
my (%count, %sum, %words_of, %word, @records);
while (my $line = <$fh>) {
	chomp $line;
	my ($id, $key, $num, $flt, $text) = split /\t/, $line;
	$count{$key}++;
	$sum{$key} += $num;
	push @{ $words_of{$key} }, (split / /, $text)[0] if @{ $words_of{$key} // [] } < 50;
	$word{$_}++ for $text =~ /\b([a-z]{6,})\b/g;
	push @records, [$id, $key, $num, $flt] if $id % 5 == 0;
}
close $fh;
printf "keys %d words %d records %d\n", scalar keys %count, scalar keys %word, scalar @records;

my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 19];
printf "top %s %d %d %s\n", $_, $count{$_}, $sum{$_}, join(',', @{ $words_of{$_} }[0 .. 2]) for @top;
my @wtop = (sort { $word{$b} <=> $word{$a} || $a cmp $b } keys %word)[0 .. 9];
print "word $_ $word{$_}\n" for @wtop;

# Sort records by several keys (Schwartzian transform), then by float.
my @sorted = map { $_->[1] } sort { $a->[0] cmp $b->[0] or $b->[1][2] <=> $a->[1][2] }
	map { [lc $_->[1], $_] } @records;
print "sorted first @{$sorted[0]} last @{$sorted[-1]}\n";
my @byflt = sort { $a->[3] <=> $b->[3] or $a->[0] <=> $b->[0] } @records;
print "byflt @{$byflt[0]} | @{$byflt[-1]}\n";

# Regex substitutions with captures, tr, and growing strings.
my $text = join "\n", map { join "\t", @$_ } @records[0 .. 19999];
(my $t2 = $text) =~ s/([a-z])([a-z]+)/\u$1\L$2/g;
my $n = ($t2 =~ s/(\d+)\.(\d+)/$2.$1/g);
(my $t3 = $t2) =~ tr/a-zA-Z/n-za-mN-ZA-M/;
printf "regex %d %d %s\n", length $t2, $n, substr($t3, 0, 40) =~ s/\t/ /gr;
my $acc = '';
$acc .= sprintf("%05d:%s;", $_, $records[$_][1]) for 0 .. $#records;
printf "acc %d %s\n", length $acc, substr($acc, -30);
my %inv;
while ($acc =~ /(\d+):([a-z]+);/g) { push @{ $inv{$2} }, $1 }
printf "inv %d %d\n", scalar keys %inv, scalar @{ $inv{ (sort keys %inv)[0] } };

# Closures, nested structures, deletion.
my @subs = map { my $k = $_; sub { $_[0] * $k + length($top[$k % @top]) } } 1 .. 100;
my $v = 1;
$v = $_->($v) % 1000003 for @subs;
print "closures $v\n";
my %tree;
for my $r (@records) {
	$tree{ substr($r->[1], 0, 2) }{ $r->[1] }{ $r->[0] % 10 } += $r->[2];
}
delete $tree{$_} for grep { /^[a-k]/ } keys %tree;
my $leaves = 0;
for my $a1 (sort keys %tree) { for my $b1 (sort keys %{ $tree{$a1} }) { $leaves += keys %{ $tree{$a1}{$b1} } } }
printf "tree %d %d\n", scalar keys %tree, $leaves;
my @big = (1 .. 300000);
splice @big, 1000, 100000;
@big = reverse grep { $_ % 3 } @big;
printf "big %d %d %d\n", scalar @big, $big[0], $big[-1];
print "done\n";
